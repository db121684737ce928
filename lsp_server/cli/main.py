"""`ghostls` — serve the language server, or run one completion in the terminal.

    ghostls [serve] [--stdio | --tcp HOST:PORT]   the language server (default)
    ghostls complete FILE:LINE:COL                one suggestion, streamed to the terminal
    ghostls doctor                                probe the configured backend, ✓/✗ + fixes
    ghostls stats [--json]                        suggestions shown and kept, latencies
    ghostls --version

Flags mirror the settings (docs/settings.md) and override `GHOSTLS_*` variables; an
editor's own settings override both.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from lsp_server import __version__
from lsp_server.logsetup import configure_logging
from lsp_server.settings import url_value

# flag → (wire path, type); each becomes a layer of settings
_SETTING_FLAGS: dict[str, tuple[tuple[str, ...], Any, str]] = {
    "--backend": (("backend", "kind"), str, "embedded | openai | openai-chat | ollama | llamacpp"),
    "--url": (
        ("backend", "url"),
        url_value,
        "base URL of an HTTP model server; a comma-separated list for a fleet",
    ),
    "--model": (("backend", "model"), str, "model name (sent to the server / fetched)"),
    "--model-path": (("backend", "modelPath"), str, "a local GGUF file for the embedded engine"),
    "--api-key-env": (("backend", "apiKeyEnv"), str, "variable that holds the API key"),
    "--fim-template": (
        ("backend", "fimTemplate"),
        str,
        "auto | qwen | qwen-chat | deepseek | starcoder | …",
    ),
    "--max-tokens": (("completion", "maxTokens"), int, "longest suggestion in tokens"),
    "--multiline": (("completion", "multiline"), str, "auto | always | never"),
    "--debounce-ms": (("completion", "debounceMs"), str, "auto, or milliseconds"),
    "--timeout-ms": (("completion", "timeoutMs"), int, "wall-clock cap per suggestion"),
}


def _common_flags() -> argparse.ArgumentParser:
    # SUPPRESS keeps a subcommand's absent flag from hiding the same flag given earlier.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("settings (override GHOSTLS_* variables)")
    for flag, (_, kind, help_text) in _SETTING_FLAGS.items():
        group.add_argument(flag, type=kind, help=help_text)
    logging_group = common.add_argument_group("logging")
    logging_group.add_argument("--log-level", help="debug | info | warning (default) | error")
    logging_group.add_argument("--log-file", help="also write the log here (created 0600)")
    return common


def _transport_flags(parser: argparse.ArgumentParser) -> None:
    # Editor clients append --stdio themselves; it is accepted and is the default.
    parser.add_argument(
        "--stdio", action="store_true", default=argparse.SUPPRESS, help="serve on stdio (default)"
    )
    parser.add_argument(
        "--tcp", metavar="HOST:PORT", default=argparse.SUPPRESS, help="serve on a TCP socket"
    )


def build_parser() -> argparse.ArgumentParser:
    common = _common_flags()
    parser = argparse.ArgumentParser(
        prog="ghostls",
        description="Local-first AI code completion language server.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"ghostls {__version__}")
    _transport_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser("serve", parents=[common], help="run the language server (default)")
    _transport_flags(serve)
    complete = commands.add_parser(
        "complete", parents=[common], help="stream one suggestion for FILE:LINE:COL (1-based)"
    )
    complete.add_argument("location", metavar="FILE:LINE:COL")
    commands.add_parser(
        "doctor", parents=[common], help="probe the configured backend: ✓/✗ checks and fixes"
    )
    stats = commands.add_parser(
        "stats", help="suggestions shown and accepted here, and each backend's latency"
    )
    stats.add_argument("--json", action="store_true", help="the ghostls/stats object as JSON")
    return parser


def _stats(as_json: bool) -> int:
    """The counts every server on this machine wrote (at most 10 s behind a running one)."""
    import json

    from lsp_server.edge.stats import StatsFile, format_stats, stats_path

    file = StatsFile(stats_path())
    total = file.read()
    if as_json:
        sys.stdout.write(json.dumps({**total.to_wire(), "file": str(file.path)}, indent=2) + "\n")
    else:
        sys.stdout.write(format_stats(total, file.path))
    return 0


def settings_wire(args: argparse.Namespace) -> dict[str, Any]:
    """The settings layer given by flags, in wire (camelCase) shape."""
    wire: dict[str, Any] = {}
    for flag, (path, _, _) in _SETTING_FLAGS.items():
        name = flag.lstrip("-").replace("-", "_")
        if name in vars(args):
            node = wire
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = getattr(args, name)
    return wire


def _serve(args: argparse.Namespace, wire: dict[str, Any]) -> int:
    from lsp_server.edge.server import create_server  # pygls is only needed to serve
    from lsp_server.transport.jsonrpc import serve_stdio, serve_tcp

    server = create_server(wire)
    tcp = getattr(args, "tcp", None)
    if tcp:
        host, _, port = tcp.rpartition(":")
        return serve_tcp(server, host or "127.0.0.1", int(port))
    return serve_stdio(server)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", None), getattr(args, "log_file", None))
    wire = settings_wire(args)
    if args.command == "stats":
        return _stats(bool(args.json))
    if args.command == "doctor":
        from lsp_server.cli.doctor import run_doctor

        return asyncio.run(run_doctor(wire, sys.stdout))
    if args.command == "complete":
        from lsp_server.cli.complete import run_complete

        return asyncio.run(run_complete(args.location, wire, sys.stdout, sys.stderr))
    return _serve(args, wire)
