"""The capability probe: what the configured backend can do, and what will go wrong.

`probe_backend` asks the server the cheapest questions that answer: is it reachable,
is the model there, can it fill in the middle (FIM tokens, Ollama's `.Suffix`,
llama-server's `/infill`), how long is its context, does it tokenize. Each answer
is a `Check` with what to do when it fails. Checks marked `bad_config` describe a
configuration that runs but gives bad results (an instruct model asked for FIM, a
context window smaller than the prompt budget); the server reports those once at
start-up, and `ghostls doctor` prints them all.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lsp_server.backends.factory import effective_settings
from lsp_server.backends.http import endpoint_label, join_url, make_client
from lsp_server.backends.llamacpp import context_size
from lsp_server.backends.ollama import parse_show
from lsp_server.backends.openai_api import api_base
from lsp_server.prompt.templates import ChatPrefillTemplate, detect_template
from lsp_server.settings import BackendSettings, Settings

# Names of models tuned for chat / instructions, which mostly lack FIM training.
_INSTRUCT = re.compile(
    r"instruct|chat|(^|[-_:.])it($|[-_:.])|gpt-|claude|gemini|llama-?3|mistral|phi-|gpt-oss",
    re.IGNORECASE,
)
PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    bad_config: bool = False  # a failure here gives bad results, not just no results

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        fix = f"\n    → {self.fix}" if self.fix and not self.ok else ""
        return f"{mark} {self.name}: {self.detail}{fix}"


@dataclass(frozen=True)
class ProbeReport:
    backend: str
    checks: tuple[Check, ...]
    context_length: int | None = None
    fim: bool | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def bad_configuration(self) -> list[str]:
        """Messages for failures that make the configuration give bad results."""
        return [f"ghostls: {c.detail} — {c.fix}" for c in self.checks if c.bad_config and not c.ok]


def fim_check(settings: BackendSettings, hint: str = "") -> Check:
    """Whether a raw-completion model can fill in the middle, judged by its name."""
    model = settings.model
    if settings.fim_template != "auto":
        return Check("FIM", True, f"template '{settings.fim_template}' set by backend.fimTemplate")
    family = detect_template(hint) or detect_template(model)
    if isinstance(family, ChatPrefillTemplate):
        return Check(
            "FIM",
            True,
            f"'{model}' is an instruct model of a FIM family: prompted with its chat, the "
            f"answer begun with the code before the cursor ({family.name})",
        )
    if family is not None:
        return Check("FIM", True, f"'{model}' is a {family.name} FIM model")
    if _INSTRUCT.search(model):
        return Check(
            "FIM",
            False,
            f"'{model}' looks like an instruct/chat model without FIM tokens; "
            "fill-in-the-middle prompts will give poor suggestions",
            "use a coder base model (e.g. qwen2.5-coder-1.5b) or set backend.kind to "
            "'openai-chat' so the model gets a chat prompt",
            bad_config=True,
        )
    return Check(
        "FIM",
        True,
        f"'{model}' is not a known FIM family; using the default (Qwen) template",
        "set backend.fimTemplate if suggestions look wrong",
    )


def context_check(settings: Settings, context: int | None, source: str) -> Check:
    need = settings.completion.prompt_tokens + settings.completion.max_tokens
    if context is None:
        return Check("context", True, f"window size unknown ({source}); budget is {need} tokens")
    if context < need:
        return Check(
            "context",
            False,
            f"the context window ({context} tokens, {source}) is smaller than the prompt "
            f"budget ({need} = completion.promptTokens + completion.maxTokens)",
            "start the server with a larger context (llama-server -c, Ollama "
            "backend.contextTokens) or lower completion.promptTokens",
            bad_config=True,
        )
    return Check("context", True, f"{context} tokens ({source}) ≥ budget {need}")


async def _get(client: httpx.AsyncClient, method: str, url: str, body: Any = None) -> Any:
    """JSON of a reply, or an `httpx.Response` with its status when it is not 2xx."""
    response = await client.request(method, url, json=body, timeout=PROBE_TIMEOUT_S)
    if response.status_code >= 300:
        return response
    try:
        return response.json()
    except ValueError:
        return None


def _unreachable(label: str, error: Exception) -> Check:
    return Check(
        "reachable",
        False,
        f"{label} did not answer ({type(error).__name__})",
        "start the model server, or fix backend.url",
    )


async def probe_backend(settings: Settings) -> ProbeReport:
    backend = effective_settings(settings.backend)
    if backend.kind == "embedded":
        return _probe_embedded(settings)
    if len(backend.urls) > 1:
        return await _probe_fleet(settings, backend)
    label = endpoint_label(backend.endpoint)
    async with make_client(backend) as client:
        try:
            if backend.kind == "ollama":
                return await _probe_ollama(client, settings, backend, label)
            if backend.kind == "llamacpp":
                return await _probe_llamacpp(client, settings, backend, label)
            return await _probe_openai(client, settings, backend, label)
        except httpx.HTTPError as error:
            return ProbeReport(f"{backend.kind} @ {label}", (_unreachable(label, error),))


async def _probe_fleet(settings: Settings, backend: BackendSettings) -> ProbeReport:
    """Each endpoint of a fleet probed on its own; every check names its endpoint."""
    reports = [
        await probe_backend(
            dataclasses.replace(settings, backend=dataclasses.replace(backend, url=url))
        )
        for url in backend.urls
    ]
    checks = tuple(
        dataclasses.replace(check, detail=f"[{endpoint_label(url)}] {check.detail}")
        for url, report in zip(backend.urls, reports, strict=True)
        for check in report.checks
    )
    sizes = [r.context_length for r in reports if r.context_length is not None]
    fims = [r.fim for r in reports if r.fim is not None]
    return ProbeReport(
        f"{backend.kind} fleet of {len(reports)}",
        checks,
        context_length=min(sizes) if sizes else None,
        fim=all(fims) if fims else None,
    )


async def _probe_openai(
    client: httpx.AsyncClient, settings: Settings, backend: BackendSettings, label: str
) -> ProbeReport:
    checks = []
    models = await _get(client, "GET", join_url(api_base(backend.endpoint), "models"))
    context: int | None = None
    if isinstance(models, httpx.Response):
        checks.append(
            Check(
                "reachable",
                models.status_code == 404,
                f"{label} answered HTTP {models.status_code} for /v1/models",
                "check backend.apiKeyEnv" if models.status_code in (401, 403) else "",
            )
        )
    else:
        data = models.get("data") if isinstance(models, dict) else None
        ids = [m.get("id") for m in data or [] if isinstance(m, dict)]
        checks.append(Check("reachable", True, f"{label} serves {len(ids)} model(s)"))
        if ids and backend.model not in ids:
            checks.append(
                Check(
                    "model",
                    len(ids) == 1,  # single-model servers answer whatever the name
                    f"'{backend.model}' is not among {', '.join(map(str, ids[:5]))}",
                    "set backend.model to one of these",
                )
            )
        for entry in data or []:
            if isinstance(entry, dict) and entry.get("id") == backend.model:
                value = entry.get("max_model_len")
                context = value if isinstance(value, int) else None
    if context is None:  # llama-server answers /props at its root
        props = await _get(client, "GET", join_url(backend.endpoint.removesuffix("/v1"), "props"))
        context = context_size(props) if isinstance(props, dict) else None
    fim = (
        fim_check(backend)
        if backend.kind == "openai"
        else Check(
            "FIM", True, "chat model: a chat prompt with a hole marker, the middle extracted"
        )
    )
    checks += [fim, context_check(settings, context, "server")]
    return ProbeReport(f"{backend.kind} @ {label}", tuple(checks), context, fim.ok)


async def _probe_ollama(
    client: httpx.AsyncClient, settings: Settings, backend: BackendSettings, label: str
) -> ProbeReport:
    version = await _get(client, "GET", join_url(backend.endpoint, "api/version"))
    name = f"ollama @ {label}"
    if isinstance(version, httpx.Response) or not isinstance(version, dict):
        return ProbeReport(
            name, (Check("reachable", False, f"{label} is not Ollama", "check backend.url"),)
        )
    checks = [Check("reachable", True, f"Ollama {version.get('version', '?')} at {label}")]
    show = await _get(
        client, "POST", join_url(backend.endpoint, "api/show"), {"model": backend.model}
    )
    if not isinstance(show, dict):
        fix = f"run `ollama pull {backend.model}`, or set backend.model to one `ollama list` shows"
        checks.append(Check("model", False, f"'{backend.model}' is not pulled", fix))
        return ProbeReport(name, tuple(checks))
    info = parse_show(show)
    checks.append(Check("model", True, f"'{backend.model}' is available"))
    if info.native_fim:
        fim = Check("FIM", True, "the model's template takes a suffix (native FIM)")
    else:
        fim = fim_check(backend)
        if fim.ok:
            fim = Check("FIM", True, f"no suffix in the template; raw FIM prompt ({fim.detail})")
    context = min(x for x in (info.context_length, backend.context_tokens) if x)
    checks += [fim, context_check(settings, context, "num_ctx = backend.contextTokens")]
    return ProbeReport(name, tuple(checks), context, fim.ok)


async def _probe_llamacpp(
    client: httpx.AsyncClient, settings: Settings, backend: BackendSettings, label: str
) -> ProbeReport:
    name = f"llamacpp @ {label}"
    props = await _get(client, "GET", join_url(backend.endpoint, "props"))
    if not isinstance(props, dict):
        return ProbeReport(
            name,
            (
                Check(
                    "reachable", False, f"{label} has no /props", "check backend.url (llama-server)"
                ),
            ),
        )
    context = context_size(props)
    checks = [Check("reachable", True, f"llama-server at {label}")]
    body = {"input_prefix": "def f(", "input_suffix": "):\n", "n_predict": 0, "stream": False}
    infill = await _get(client, "POST", join_url(backend.endpoint, "infill"), body)
    fim_ok = not isinstance(infill, httpx.Response)
    checks.append(
        Check("FIM", True, "/infill works: the model has FIM tokens")
        if fim_ok
        else Check(
            "FIM",
            False,
            f"/infill failed (HTTP {infill.status_code}): the model has no FIM tokens",
            "load a coder model with FIM tokens (e.g. Qwen2.5-Coder) or use "
            "backend.kind 'openai-chat' against the same server",
            bad_config=True,
        )
    )
    tokens = await _get(
        client, "POST", join_url(backend.endpoint, "tokenize"), {"content": "x = 1"}
    )
    checks.append(
        Check(
            "tokenizer",
            isinstance(tokens, dict),
            "/tokenize gives exact token budgets"
            if isinstance(tokens, dict)
            else "/tokenize unavailable; budgets are estimated",
        )
    )
    checks.append(context_check(settings, context, "/props n_ctx"))
    return ProbeReport(name, tuple(checks), context, fim_ok)


def _probe_embedded(settings: Settings) -> ProbeReport:
    backend = settings.backend
    checks = []
    if backend.model_path:
        path = Path(backend.model_path).expanduser()
        exists = path.is_file()
        checks.append(
            Check(
                "model",
                exists,
                f"{path} {'exists' if exists else 'does not exist'}",
                "fix backend.modelPath",
            )
        )
        checks.append(fim_check(backend, path.name))
    else:
        checks.append(Check("model", True, f"'{backend.model}' (downloaded on first use)"))
        checks.append(fim_check(backend))
    checks.append(context_check(settings, backend.context_tokens, "backend.contextTokens"))
    return ProbeReport("embedded", tuple(checks), backend.context_tokens, checks[1].ok)
