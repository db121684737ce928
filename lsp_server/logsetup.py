"""Logging: WARNING to stderr by default, pygls quiet, secrets masked everywhere.

pygls logs whole `initialize` params (where users put API keys) and message bodies at
INFO, so its loggers stay at WARNING unless the user asks for DEBUG explicitly. The
redacting filter sits on the handlers, so it covers every logger, pygls's included.
"""

from __future__ import annotations

import logging
import os
import re

SECRET_PATTERNS = (
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:bearer|basic)\s+)[^\s\"',}]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{8,}"),
    re.compile(r"()\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"(?i)((?:api[_-]?key|token|secret|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{6,}"),
)
MASK = "********"


def secret_values() -> set[str]:
    """Values of variables that hold keys: *_KEY / *_TOKEN / *_SECRET and the one
    named by GHOSTLS_API_KEY_ENV."""
    named = os.environ.get("GHOSTLS_API_KEY_ENV") or os.environ.get("GHOSTLS_BACKEND_API_KEY_ENV")
    values = {os.environ[named]} if named and os.environ.get(named) else set()
    for name, value in os.environ.items():
        if re.search(r"(KEY|TOKEN|SECRET|PASSWORD)$", name) and len(value) >= 8:
            values.add(value)
    return values


# Key values learnt after start-up (an `apiKeyEnv` named by the editor's settings).
_runtime_secrets: set[str] = set()


def remember_secret(value: str | None) -> None:
    """Mask `value` in every log line from now on."""
    if value and len(value) >= 6:
        _runtime_secrets.add(value)


def remember_key_env(name: str | None) -> None:
    """Mask the value of the variable `backend.apiKeyEnv` names, wherever it is set."""
    if name:
        remember_secret(os.environ.get(name))


def redact(text: str, extra: set[str] | frozenset[str] = frozenset()) -> str:
    for value in extra:
        text = text.replace(value, MASK)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats, then masks: covers args, exception text and stack alike."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self.secrets = frozenset(secret_values())

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets | _runtime_secrets)


def configure_logging(level: str | None, log_file: str | None = None) -> None:
    chosen = getattr(
        logging, (level or os.environ.get("GHOSTLS_LOG_LEVEL") or "WARNING").upper(), None
    )
    if not isinstance(chosen, int):
        chosen = logging.WARNING
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file:
        fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # an existing file too: the log may hold code
        os.close(fd)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    root = logging.getLogger()
    for old in root.handlers:
        old.close()
    root.handlers.clear()
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(chosen)
    # pygls at INFO logs initialize params and bodies: only at an explicit DEBUG.
    quiet = chosen if chosen <= logging.DEBUG else logging.WARNING
    for name in ("pygls", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)
