#!/usr/bin/env bash
# Sets up (build and run packages only), builds the two programs (release, no tests) and runs the
# server in the foreground. Arguments go to the server: an address (default 127.0.0.1:8080) and
# options, e.g. `scripts/serve.sh 127.0.0.1:9000 --log-level=debug`. Ctrl-C stops it gracefully.
# Browsers get the chat page at http://127.0.0.1:8090/ (ACHAT_WEB_LISTEN=HOST:PORT to move it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
setup=(meson setup build-release --buildtype=release -Dtests=false -Dbench=false)
[ -d build-release ] && setup+=(--reconfigure)  # a build dir from before the tests option
"${setup[@]}" >/dev/null
ninja -C build-release src/app/a-chat-server src/client/a-chat-client >/dev/null
address=127.0.0.1:8080
[ $# -gt 0 ] && [ "${1#-}" = "$1" ] && address=$1
web=${ACHAT_WEB_LISTEN:-127.0.0.1:8090}
echo "a-chat: terminals connect to $address (build-release/src/client/a-chat-client $address, or nc)"
echo "a-chat: browsers open http://$web/"
exec build-release/src/app/a-chat-server --web-listen "$web" "$@"
