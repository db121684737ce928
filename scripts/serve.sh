#!/usr/bin/env bash
# Sets up ghostls (first run: compiles llama.cpp, 3-4 min) and starts the language
# server on stdio with the embedded default engine. Extra arguments go to
# `ghostls serve` (e.g. --backend openai --url http://127.0.0.1:8080, or --tcp 127.0.0.1:2087).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >&2
exec .venv/bin/ghostls serve "$@"
