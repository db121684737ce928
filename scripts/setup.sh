#!/usr/bin/env bash
# Creates .venv and installs ghostls into it (with test tools when given --test).
# llama-cpp-python has no Linux wheel on PyPI: it is compiled once (3-4 min on 2
# cores) with flags that are portable and avoid a crash on some CPUs (FACTS.md); pip
# caches the built wheel, so later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
[ -x .venv/bin/python ] || python3 -m venv .venv
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF}"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".${extras}"
