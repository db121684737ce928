#!/usr/bin/env bash
# Installs what the VS Code extension's tests need, once: Debian Chromium, ripgrep and
# libkrb5-dev (apt, only when missing), the extension's npm packages (npm ci), and
# code-server 4.100.3 (a real VS Code that runs offline) into clients/vscode/.e2e/.
# Each step is skipped when its result is already there, so repeated runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/../clients/vscode"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm ci only when package-lock.json changed since the last install.
stamp=node_modules/.ghostls-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

cs_version=4.100.3
cs_dir=.e2e/code-server-$cs_version
if [ ! -x "$cs_dir/node_modules/.bin/code-server" ]; then
  # @vscode/ripgrep downloads rg from GitHub in its postinstall; hand it Debian's.
  tmp="${TMPDIR:-/tmp}"
  cache="$tmp/vscode-ripgrep-cache-1.15.11"
  if [ ! -f "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" ]; then
    mkdir -p "$cache"
    work=$(mktemp -d)
    cp "$(command -v rg)" "$work/rg"
    tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$work" rg
    rm -rf "$work"
  fi
  mkdir -p "$cs_dir"
  echo '{"name":"ghostls-e2e-code-server","private":true}' >"$cs_dir/package.json"
  (cd "$cs_dir" && npm_config_yes=true npm install --no-audit --no-fund --unsafe-perm \
    --foreground-scripts "code-server@$cs_version" >install.log 2>&1) ||
    { tail -40 "$cs_dir/install.log"; exit 1; }
fi
