#!/usr/bin/env bash
# Sets up, builds (release) and starts the a-chat server on 127.0.0.1:8080 in the foreground.
# Extra arguments go to the server (e.g. --log-level=debug). Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -d build-release ] || meson setup build-release --buildtype=release -Dbench=false >/dev/null
ninja -C build-release src/a-chat-server src/client/a-chat-client >/dev/null
exec build-release/src/a-chat-server 127.0.0.1:8080 "$@"
