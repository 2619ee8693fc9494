#!/usr/bin/env bash
# Runs a whole a-chat cluster on this machine: three NATS servers in one JetStream cluster and
# three a-chat nodes, each node listing its own NATS server first.
#   bash scripts/cluster.sh start    set up, build (release), start everything in the background
#   bash scripts/cluster.sh stop     stop the nodes (SIGTERM: they release their logins), then NATS
#   bash scripts/cluster.sh status   what runs, by PID
# Nodes a, b, c listen on 127.0.0.1:8081..8083; NATS clients use 4301..4303, routes 6301..6303.
# State (stores, logs, PID files) lives in $ACHAT_CLUSTER_DIR (default /tmp/a-chat-cluster).
# Extra arguments after "start" go to every node (e.g. --claim-ttl-ms=5000). ACHAT_BUILD names
# another build directory to use (default build-release).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${ACHAT_CLUSTER_DIR:-/tmp/a-chat-cluster}
build=${ACHAT_BUILD:-build-release}
names=(a b c)
nats_port() { echo $((4301 + $1)); }
route_port() { echo $((6301 + $1)); }
chat_port() { echo $((8081 + $1)); }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_nats() {  # index
  local i=$1 name=n$(($1 + 1)) routes=""
  for j in 0 1 2; do routes+="${routes:+,}nats://127.0.0.1:$(route_port "$j")"; done
  mkdir -p "$dir/$name"
  alive "$dir/$name.pid" && return
  nats-server -a 127.0.0.1 -p "$(nats_port "$i")" -js -sd "$dir/$name/store" --server_name "$name" \
    --cluster_name a-chat --cluster "nats://127.0.0.1:$(route_port "$i")" --routes "$routes" \
    >>"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

start_node() {  # index, extra options...
  local i=$1 node=${names[$1]} urls=""
  shift
  for k in 0 1 2; do urls+="${urls:+,}nats://127.0.0.1:$(nats_port $(((i + k) % 3)))"; done
  alive "$dir/node-$node.pid" && return
  "$build/src/app/a-chat-server" "127.0.0.1:$(chat_port "$i")" --cluster "$urls" --node-id "$node" "$@" \
    >>"$dir/node-$node.log" 2>&1 &
  echo $! >"$dir/node-$node.pid"
}

stop_pid() {  # pid file, signal
  alive "$1" || { rm -f "$1"; return; }
  local pid
  pid=$(cat "$1")
  kill "-$2" "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$1"
}

case ${1:-} in
  start)
    shift
    bash scripts/setup.sh --cluster
    [ -d "$build" ] || meson setup "$build" --buildtype=release -Dbench=false >/dev/null
    ninja -C "$build" src/app/a-chat-server src/client/a-chat-client >/dev/null
    mkdir -p "$dir"
    for i in 0 1 2; do start_nats "$i"; done
    for i in 0 1 2; do start_node "$i" "$@"; done
    for i in 0 1 2; do
      node=${names[$i]}
      for _ in $(seq 300); do grep -q "cluster: ready" "$dir/node-$node.log" && break; sleep 0.1; done
      grep -q "cluster: ready" "$dir/node-$node.log" || { echo "node $node not ready: see $dir/node-$node.log"; exit 1; }
      echo "node $node: 127.0.0.1:$(chat_port "$i") (log $dir/node-$node.log)"
    done
    ;;
  stop)
    for node in "${names[@]}"; do stop_pid "$dir/node-$node.pid" TERM; done
    for i in 1 2 3; do stop_pid "$dir/n$i.pid" TERM; done
    echo "stopped"
    ;;
  status)
    for f in "$dir"/*.pid; do
      [ -e "$f" ] || continue
      if alive "$f"; then echo "$(basename "$f" .pid): running, pid $(cat "$f")"; else echo "$(basename "$f" .pid): dead"; fi
    done
    ;;
  *)
    echo "usage: $0 start [node options...] | stop | status" >&2
    exit 2
    ;;
esac
