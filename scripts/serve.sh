#!/usr/bin/env bash
# Sets up (build and run packages only), builds the two programs (release, no tests) and runs the
# server in the foreground. Arguments go to the server: an address (default 127.0.0.1:8080) and
# options, e.g. `scripts/serve.sh 127.0.0.1:9000 --log-level=debug`. Ctrl-C stops it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
options=(--buildtype=release -Dtests=false -Dbench=false)
if [ -d build-release ]; then
  meson configure build-release "${options[@]}" >/dev/null
else
  meson setup build-release "${options[@]}" >/dev/null
fi
ninja -C build-release src/a-chat-server src/client/a-chat-client >/dev/null
exec build-release/src/a-chat-server "$@"
