"""Fleets reachable by users: `backend.url` as a list (initializationOptions, --url
a,b, GHOSTLS_URL) through the real server over JSON-RPC and `ghostls complete`."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lsp_server.backends.factory import create_backend
from lsp_server.backends.fleet import FleetBackend
from lsp_server.backends.policy import EndpointRefused, check_backend
from lsp_server.settings import BackendSettings, load_settings, wire_from_environment
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import running_server, server_env

URI = "file:///work/add.py"
TEXT = "def add(a, b):\n    \n"
ANSWER = "return a + b"


def refused_url() -> str:
    """A 127.0.0.1 port nobody listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def answers(n: int) -> Script:
    return Script([Reply(ANSWER) for _ in range(n)])


@pytest.mark.parametrize("how", ["initializationOptions", "--url"])
async def test_a_fleet_with_a_dead_endpoint_still_answers(tmp_path: Path, how: str) -> None:
    dead = refused_url()
    with FakeBackend(answers(1)) as good:
        urls = [dead, good.url]  # the dead one first: the first choice, then retried
        backend: dict[str, object] = {"kind": "openai", "model": "qwen2.5-coder-1.5b"}
        args: tuple[str, ...] = ()
        if how == "--url":
            args = ("--url", ",".join(urls))
        else:
            backend["url"] = urls
        async with running_server(tmp_path, {"backend": backend}, args=args) as session:
            session.open(URI, TEXT)
            result = await session.inline(URI, 1, 4)
            assert [item.insert_text for item in result.items] == [ANSWER]
            assert len(good.completion_requests()) == 1
            assert not [m for m in session.client.messages if m.type == 1]  # no error shown


def test_complete_over_a_fleet(tmp_path: Path) -> None:
    source = tmp_path / "add.py"
    source.write_text(TEXT)
    with FakeBackend(answers(1)) as good:
        command = [sys.executable, "-m", "lsp_server", "complete", f"{source}:2:5"]
        command += ["--backend", "openai", "--url", f"{refused_url()},{good.url}"]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=server_env(tmp_path, None)
        )
    assert result.returncode == 0, result.stderr
    assert ANSWER in result.stdout


def test_url_lists_from_every_layer() -> None:
    settings, problems = load_settings({"backend": {"url": ["http://a:1", "http://b:2"]}})
    assert not problems
    assert settings.backend.urls == ("http://a:1", "http://b:2")
    assert settings.backend.endpoint == "http://a:1"
    assert wire_from_environment({"GHOSTLS_URL": "http://a:1, http://b:2"}) == {
        "backend": {"url": ["http://a:1", "http://b:2"]}
    }
    assert load_settings({"backend": {"url": "http://a:1"}})[0].backend.urls == ("http://a:1",)
    for bad in ([], ["http://a:1", 2]):
        settings, problems = load_settings({"backend": {"url": bad}})
        assert [p.path for p in problems] == ["backend.url"]
        assert settings.backend.url == BackendSettings().url


def test_factory_builds_a_fleet_only_for_a_list() -> None:
    one = create_backend(BackendSettings(kind="openai", url=("http://127.0.0.1:1",)))
    assert not isinstance(one, FleetBackend)
    two = create_backend(BackendSettings(kind="llamacpp", url=("http://a:1", "http://b:2")))
    assert isinstance(two, FleetBackend)
    assert [e.backend.description for e in two.endpoints][1].find("b:2") >= 0


def test_the_endpoint_policy_checks_every_url() -> None:
    check_backend("openai", ("http://127.0.0.1:1", "http://[::1]:2"), user_configured=False)
    with pytest.raises(EndpointRefused, match=r"10\.0\.0\.7"):
        check_backend("openai", ("http://127.0.0.1:1", "http://10.0.0.7:2"), False)
    with pytest.raises(EndpointRefused, match="link-local"):
        check_backend("openai", ["http://10.0.0.7:2", "http://169.254.169.254"], True)
