"""A chat prompt's turns: what chat-FIM and the code-action prompts build, and what a
chat backend renders (its template) or sends (`/v1/chat/completions`, `/api/chat`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant
    content: str
