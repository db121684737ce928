#!/usr/bin/env bash
# Installs Emacs (no X) and eglot for tests/test_editor_emacs.py, once: Debian 12 ships
# Emacs 28.2, which has no eglot built in, and eglot 1.9 as `elpa-eglot`. Skipped when
# `emacs` can already load eglot; the test skips itself when neither is there.
set -euo pipefail
if command -v emacs >/dev/null && emacs --batch --eval '(require (quote eglot))' >/dev/null 2>&1; then
  exit 0
fi
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot
