"""Settings: one defaulted, frozen dataclass tree, the same object on every wire.

Sources, later ones winning: defaults, `GHOSTLS_*` environment variables, CLI flags,
`initializationOptions`, `workspace/configuration` (section `ghostls`). The wire is
camelCase, Python is snake_case. Every key is optional. A value that does not fit its
field falls back to that field's default and is reported as a `SettingsProblem`
(field path and reason), which the server shows to the user once.
"""

from __future__ import annotations

import dataclasses
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

import cattrs

BackendKind = Literal["embedded", "openai", "openai-chat", "ollama", "llamacpp"]
FimTemplateName = Literal[
    "auto",
    "qwen",
    "qwen-chat",
    "deepseek",
    "starcoder",
    "starcoder-psm",
    "codellama",
    "codestral",
    "codegemma",
]

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class BackendSettings:
    kind: BackendKind = "embedded"
    # One endpoint, or a fleet of endpoints serving the same model (a JSON array on
    # the wire, a comma-separated list in --url / GHOSTLS_URL); see backends/fleet.py.
    url: str | tuple[str, ...] = "http://127.0.0.1:8080"
    model: str = DEFAULT_MODEL
    model_path: str | None = None
    api_key_env: str | None = None
    fim_template: FimTemplateName = "auto"
    connect_timeout_ms: int = 3000
    # No byte for this long in the middle of a stream means the backend stalled.
    read_timeout_ms: int = 10000
    context_tokens: int = 4096  # the embedded engine's context window (n_ctx)
    threads: int = 0  # embedded: 0 = the engine's choice

    @property
    def urls(self) -> tuple[str, ...]:
        """Every endpoint of `url`, in order."""
        return (self.url,) if isinstance(self.url, str) else self.url

    @property
    def endpoint(self) -> str:
        """The first (for a single-endpoint backend, the only) URL."""
        return self.urls[0]


@dataclass(frozen=True)
class CompletionSettings:
    # Room for a whole function body: the cut ends a block where it ends and the stream
    # is closed there, so these bound only a text the cut cannot end (a rambling model).
    # HumanEval's multi-line middles: 29 lines and 239 real tokens at most (issue 18;
    # 12 / 128 ruled out 8 %). A slow backend gets fewer tokens from the latency
    # controller whatever this says (`completion/latency.py`).
    max_tokens: int = 256
    multiline: Literal["auto", "always", "never"] = "auto"
    debounce_ms: int | Literal["auto"] = "auto"
    max_lines: int = 32
    prompt_tokens: int = 1536  # prefix + suffix budget
    timeout_ms: int = 8000  # wall-clock cap per suggestion
    temperature: float = 0.0
    target_latency_ms: int = 500  # the p75 the latency controller aims for


@dataclass(frozen=True)
class NextEditSettings:
    """Next-edit suggestions (`textDocument/copilotInlineEdit`, lsp_server/nextedit)."""

    enabled: bool = True
    format: Literal["auto", "sweep", "zeta"] = "auto"  # auto: from the model's name
    max_tokens: int = 512  # the rewritten window (21 lines) must fit
    timeout_ms: int = 15000
    # A model of its own (a next-edit model such as Sweep 1.5B); None = `backend`. Keys
    # left out are taken from `backend`, as for `actions`.
    backend: BackendSettings | None = None


@dataclass(frozen=True)
class Settings:
    backend: BackendSettings = field(default_factory=BackendSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    streaming: bool = False
    # The model profile for code actions; None = the completion backend. Keys left out
    # are taken from `backend` (see load_settings).
    actions: BackendSettings | None = None
    next_edit: NextEditSettings = field(default_factory=NextEditSettings)


@dataclass(frozen=True)
class SettingsProblem:
    path: str  # wire path, e.g. "completion.maxTokens"
    reason: str

    def __str__(self) -> str:
        return f"ghostls setting '{self.path}' ignored: {self.reason}; using the default"


_converter = cattrs.Converter()


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _structure_int(value: Any, _: type) -> int:
    # bool is an int in Python; a JSON `true` for a number is a mistake worth reporting.
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(value)


_converter.register_structure_hook(bool, _structure_bool)
_converter.register_structure_hook(int, _structure_int)


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _is_optional_none(tp: Any, value: Any) -> bool:
    return value is None and type(None) in get_args(tp)


def _structure_leaf(value: Any, tp: Any) -> Any:
    """cattrs for leaves; unions are tried member by member (cattrs won't guess)."""
    if get_origin(tp) in (Union, types.UnionType):
        if _is_optional_none(tp, value):
            return None
        errors: list[str] = []
        for member in get_args(tp):
            if member is type(None):
                continue
            try:
                return _structure_leaf(value, member)
            except (ValueError, TypeError, cattrs.BaseValidationError) as error:
                errors.append(_reason(error))
        raise ValueError(" or ".join(errors))
    if get_origin(tp) is Literal:
        if value not in get_args(tp):
            choices = ", ".join(repr(choice) for choice in get_args(tp))
            raise ValueError(f"{value!r} is not one of {choices}")
        return value
    if tp is str and not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    if tp == tuple[str, ...]:
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"expected a non-empty list of strings, got {value!r}")
        if not all(isinstance(item, str) for item in value):
            raise ValueError(f"expected a list of strings, got {value!r}")
        return tuple(value)
    if tp in (int, float) and isinstance(value, (list, dict)):
        raise ValueError(f"expected a number, got {value!r}")
    return _converter.structure(value, tp)


def _optional_dataclass(tp: Any) -> Any:
    """`X` for a field typed `X | None` where X is a dataclass, else `tp`."""
    members = [m for m in get_args(tp) if m is not type(None)]
    union = get_origin(tp) in (Union, types.UnionType)
    if union and len(members) == 1 and dataclasses.is_dataclass(members[0]):
        return members[0]
    return tp


def _reason(error: BaseException) -> str:
    if isinstance(error, cattrs.BaseValidationError) and error.exceptions:
        return _reason(error.exceptions[0])
    return str(error)


T = typing.TypeVar("T")


def structure_settings(data: Any, cls: type[T], path: str = "") -> tuple[T, list[SettingsProblem]]:
    """Structure a wire object into `cls`, field by field; bad fields fall back."""
    problems: list[SettingsProblem] = []
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.append(SettingsProblem(path or "(root)", f"expected an object, got {data!r}"))
        data = {}
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
        wire = to_camel(spec.name)
        if wire not in data:
            continue
        tp = hints[spec.name]
        field_path = f"{path}.{wire}" if path else wire
        tp = _optional_dataclass(tp) if data[wire] is not None else tp
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            values[spec.name], nested = structure_settings(data[wire], tp, field_path)
            problems.extend(nested)
            continue
        try:
            values[spec.name] = _structure_leaf(data[wire], tp)
        except (ValueError, TypeError, cattrs.BaseValidationError) as error:
            problems.append(SettingsProblem(field_path, _reason(error)))
    for unknown in sorted(set(data) - {to_camel(spec.name) for spec in dataclasses.fields(cls)}):  # type: ignore[arg-type]
        problems.append(SettingsProblem(f"{path}.{unknown}" if path else unknown, "unknown key"))
    return cls(**values), problems


def merge_wire(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge wire objects; later layers win key by key."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if not isinstance(layer, Mapping):
            continue
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = merge_wire(merged[key], value)
            elif isinstance(value, Mapping):
                merged[key] = merge_wire(value)
            else:
                merged[key] = value
    return merged


# Short names that mirror the CLI flags, besides the systematic GHOSTLS_SECTION_FIELD.
_ENV_ALIASES = {
    "GHOSTLS_BACKEND": ("backend", "kind"),
    "GHOSTLS_URL": ("backend", "url"),
    "GHOSTLS_MODEL": ("backend", "model"),
    "GHOSTLS_MODEL_PATH": ("backend", "modelPath"),
    "GHOSTLS_API_KEY_ENV": ("backend", "apiKeyEnv"),
    "GHOSTLS_FIM_TEMPLATE": ("backend", "fimTemplate"),
    "GHOSTLS_MAX_TOKENS": ("completion", "maxTokens"),
    "GHOSTLS_STREAMING": ("streaming",),
}


def _wire_paths(cls: type, prefix: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Every leaf as ENV_NAME → wire path, e.g. GHOSTLS_COMPLETION_MAX_TOKENS."""
    hints = typing.get_type_hints(cls)
    paths: dict[str, tuple[str, ...]] = {}
    for spec in dataclasses.fields(cls):
        wire_path = (*prefix, to_camel(spec.name))
        nested = _optional_dataclass(hints[spec.name])
        if isinstance(nested, type) and dataclasses.is_dataclass(nested):
            paths.update(_wire_paths(nested, wire_path))
        else:
            name = "_".join(re.sub(r"([A-Z])", r"_\1", part).upper() for part in wire_path)
            paths[f"GHOSTLS_{name}"] = wire_path
    return paths


def url_value(text: str) -> str | list[str]:
    """A URL as typed in --url or GHOSTLS_URL: commas separate a fleet's endpoints."""
    if "," not in text:
        return text.strip()
    return [part.strip() for part in text.split(",") if part.strip()]


def wire_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    known = {**_wire_paths(Settings), **_ENV_ALIASES}
    wire: dict[str, Any] = {}
    for name, wire_path in known.items():
        if name in environ:
            node = wire
            for key in wire_path[:-1]:
                node = node.setdefault(key, {})
            value: Any = environ[name]
            node[wire_path[-1]] = url_value(value) if wire_path[-1] == "url" else value
    return wire


def load_settings(*layers: Mapping[str, Any] | None) -> tuple[Settings, list[SettingsProblem]]:
    """Settings from the environment, then each wire layer in order."""
    merged = merge_wire(wire_from_environment(), *layers)
    if isinstance(merged.get("actions"), dict):  # the actions profile inherits `backend`
        merged["actions"] = merge_wire(merged.get("backend"), merged["actions"])
    next_edit = merged.get("nextEdit")
    if isinstance(next_edit, dict) and isinstance(next_edit.get("backend"), dict):
        next_edit["backend"] = merge_wire(merged.get("backend"), next_edit["backend"])
    return structure_settings(merged, Settings)
