#!/usr/bin/env bash
# Prepares a fresh Debian machine for picflow: the system packages the tests need when they are
# missing (Chromium for the editor's browser tests, redis-server for the scale-out tests, which start
# their own throwaway instance), then the npm dependencies from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# npm ci rebuilds sqlite3 from source (a minute or two); skip it when the installed tree matches the lock.
# onnxruntime-node's install script would download CUDA libraries picflow never uses: its own env
# var skips that (a project .npmrc key would make every npm call warn about an unknown config).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi

# The compiled CLI that `npx picflow` runs (npm ci builds it too; this covers an up-to-date tree).
npm run build:cli
