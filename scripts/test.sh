#!/usr/bin/env bash
# Sets up everything and runs every check: lint, types, the Python suite (protocol,
# backends, embedded engine, Neovim e2e), and the VS Code extension's unit and e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
./scripts/setup-neovim.sh
./scripts/setup-emacs.sh || echo "Emacs + eglot not installed: tests/test_editor_emacs.py skips"
. .venv/bin/activate
echo "== ruff"
ruff check lsp_server tests bench
ruff format --check lsp_server tests bench
echo "== mypy"
mypy --strict lsp_server
echo "== pytest"; python -m pytest -q
echo "== vscode"; ./scripts/setup-vscode.sh && (cd clients/vscode && npm test && npm run test:e2e)
