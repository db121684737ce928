"""Prompt stage: `CursorContext` + model profile → `Prompt` within a token budget."""
