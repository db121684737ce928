"""The embedded engine's decode threads do not spin-wait for long (issue #19's stall,
`lsp_server/backends/openmp.py`): what libgomp itself read when the server's engine
module loaded it, in a fresh interpreter, as the server starts."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from lsp_server.backends.openmp import SPIN_COUNT, bound_openmp_spin

# Load the engine as the server does, then ask libgomp (already loaded by llama.cpp's
# CPU library) what it runs with: `omp_display_env` prints its settings to stderr.
PROBE = """
import ctypes
import lsp_server.backends.embedded
maps = open("/proc/self/maps").read()
path = next((line.split()[-1] for line in maps.splitlines() if "libgomp" in line), None)
if path is None:
    print("NO-LIBGOMP")
else:
    ctypes.CDLL(path).omp_display_env(1)
"""


def effective_spin(**env: str) -> str:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environ | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    if "NO-LIBGOMP" in done.stdout:
        pytest.skip("this llama-cpp-python build does not use OpenMP")
    found = re.search(r"GOMP_SPINCOUNT = '(\d+)'", done.stderr)
    assert found is not None, done.stderr
    return found.group(1)


def test_the_engine_runs_with_a_bounded_spin() -> None:
    # libgomp's default is 300000: decode threads spinning for a preempted partner.
    assert effective_spin() == str(SPIN_COUNT)


def test_a_users_own_openmp_settings_are_kept() -> None:
    assert effective_spin(GOMP_SPINCOUNT="5000") == "5000"
    assert effective_spin(OMP_WAIT_POLICY="PASSIVE") == "0"


def test_bound_openmp_spin_only_fills_in_what_is_unset() -> None:
    environ: dict[str, str] = {}
    bound_openmp_spin(environ)
    assert environ == {"GOMP_SPINCOUNT": str(SPIN_COUNT)}
    chosen = {"OMP_WAIT_POLICY": "ACTIVE"}
    bound_openmp_spin(chosen)
    assert chosen == {"OMP_WAIT_POLICY": "ACTIVE"}
