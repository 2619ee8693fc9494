#!/usr/bin/env bash
# Runs a whole a-chat cluster on this machine: three NATS servers in one JetStream cluster and
# three a-chat nodes, each node listing its own NATS server first.
#   bash scripts/cluster.sh start [options] [node options...]   start what is not running
#   bash scripts/cluster.sh stop [--dir DIR]     SIGTERM to every node at once (they release their
#                                                logins), wait; then the same for NATS
#   bash scripts/cluster.sh status [--dir DIR]   what runs, by PID
#   bash scripts/cluster.sh clean [--dir DIR]    stop, then delete DIR (stores, logs, PID files)
# Options (the defaults in brackets); node i (a, b, c = 0, 1, 2) gets the first port plus i:
#   --dir DIR            state: stores, logs, PID files [/tmp/a-chat-cluster]
#   --build DIR          build directory with the binaries [build-release]; built (release) only
#                        if its a-chat-server is missing: run ninja yourself after a change
#   --chat-port N        the nodes' chat ports [8081]
#   --metrics-port N     the nodes' /metrics and /healthz ports [9181]; 0: none
#   --nats-port N        the NATS servers' client ports [4301]
#   --route-port N       the NATS servers' cluster ports [6301]
# Any other argument goes to every node (e.g. --claim-ttl-ms=5000). Options, not ACHAT_*
# variables: the server reads ACHAT_* itself and warns about ones that set nothing.
# Start waits until each node it started has logged `cluster: ready` in this run's part of its log
# (an earlier run's line does not count) and fails at once if a node exits.
set -euo pipefail
cd "$(dirname "$0")/.."

command=${1:-}
[ $# -gt 0 ] && shift
dir=/tmp/a-chat-cluster
build=build-release
chat_base=8081
metrics_base=9181
nats_base=4301
route_base=6301
node_args=()
number() { [[ $2 =~ ^[0-9]+$ ]] || { echo "$0: $1 needs a number, got \"$2\"" >&2; exit 2; }; echo "$2"; }
while [ $# -gt 0 ]; do
  arg=$1
  shift
  case $arg in
    --dir=*|--build=*|--chat-port=*|--metrics-port=*|--nats-port=*|--route-port=*)
      set -- "${arg%%=*}" "${arg#*=}" "$@" ;;
    --dir|--build|--chat-port|--metrics-port|--nats-port|--route-port)
      [ $# -ge 1 ] || { echo "$0: $arg needs a value" >&2; exit 2; }
      value=$1
      shift
      case $arg in
        --dir) dir=$value ;;
        --build) build=$value ;;
        --chat-port) chat_base=$(number "$arg" "$value") ;;
        --metrics-port) metrics_base=$(number "$arg" "$value") ;;
        --nats-port) nats_base=$(number "$arg" "$value") ;;
        --route-port) route_base=$(number "$arg" "$value") ;;
      esac ;;
    *) node_args+=("$arg") ;;
  esac
done
if [ "$command" != start ] && [ ${#node_args[@]} -gt 0 ]; then
  echo "$0: $command takes only --dir (got ${node_args[*]})" >&2
  exit 2
fi

names=(a b c)
nats_port() { echo $((nats_base + $1)); }
route_port() { echo $((route_base + $1)); }
chat_port() { echo $((chat_base + $1)); }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
log_size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }

# Started this run: "<pid file> <log> <bytes of the log before this run>" per node.
started=()

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

start_node() {  # index
  local i=$1 node=${names[$1]} urls="" metrics=()
  for k in 0 1 2; do urls+="${urls:+,}nats://127.0.0.1:$(nats_port $(((i + k) % 3)))"; done
  [ "$metrics_base" -ne 0 ] && metrics=(--metrics-listen "127.0.0.1:$((metrics_base + i))")
  alive "$dir/node-$node.pid" && { echo "node $node: already running, pid $(cat "$dir/node-$node.pid")"; return; }
  local log="$dir/node-$node.log"
  started+=("$dir/node-$node.pid $log $(log_size "$log")")
  "$build/src/app/a-chat-server" "127.0.0.1:$(chat_port "$i")" --cluster "$urls" --node-id "$node" \
    "${metrics[@]}" "${node_args[@]}" >>"$log" 2>&1 &
  echo $! >"$dir/node-$node.pid"
}

# Waits until every node started this run is ready; 1 if one exits or is not ready in time.
wait_ready() {
  local entry pid_file log offset pid
  for entry in "${started[@]}"; do
    read -r pid_file log offset <<<"$entry"
    pid=$(cat "$pid_file")
    for _ in $(seq 600); do
      tail -c +"$((offset + 1))" "$log" | grep -q "cluster: ready" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if ! tail -c +"$((offset + 1))" "$log" | grep -q "cluster: ready"; then
      kill -0 "$pid" 2>/dev/null && why="not ready after 60 s" || why="exited"
      echo "node $(basename "$pid_file" .pid | sed 's/^node-//'): $why; this run's log:" >&2
      tail -c +"$((offset + 1))" "$log" | tail -n 20 >&2
      return 1
    fi
  done
}

# Signals every process of the given PID files at once, then waits for all of them.
stop_all() {  # signal, pid files...
  local signal=$1 pids=() f
  shift
  for f in "$@"; do
    if alive "$f"; then pids+=("$(cat "$f")"); kill "-$signal" "$(cat "$f")"; fi
    rm -f "$f"
  done
  for _ in $(seq 300); do
    local running=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
    [ $running -eq 0 ] && return
    sleep 0.1
  done
  echo "still running after 30 s, killed: ${pids[*]}" >&2
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}

stop() {
  stop_all TERM "$dir/node-a.pid" "$dir/node-b.pid" "$dir/node-c.pid"
  stop_all TERM "$dir/n1.pid" "$dir/n2.pid" "$dir/n3.pid"
}

case $command in
  start)
    command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] ||
      { echo "$0: nats-server missing: bash scripts/setup.sh --cluster" >&2; exit 1; }
    PATH=$PATH:/usr/sbin
    if [ ! -x "$build/src/app/a-chat-server" ]; then
      [ -d "$build" ] || meson setup "$build" --buildtype=release -Dbench=false >/dev/null
      ninja -C "$build" src/app/a-chat-server src/client/a-chat-client >/dev/null
    fi
    mkdir -p "$dir"
    for i in 0 1 2; do start_nats "$i"; done
    for i in 0 1 2; do start_node "$i"; done
    wait_ready || exit 1
    for i in 0 1 2; do
      metrics_text=""
      [ "$metrics_base" -ne 0 ] && metrics_text=", metrics 127.0.0.1:$((metrics_base + i))"
      echo "node ${names[$i]}: 127.0.0.1:$(chat_port "$i")$metrics_text (log $dir/node-${names[$i]}.log)"
    done
    ;;
  stop)
    stop
    echo "stopped"
    ;;
  clean)
    stop
    rm -rf "$dir"
    echo "stopped; $dir deleted"
    ;;
  status)
    for f in "$dir"/*.pid; do
      [ -e "$f" ] || continue
      if alive "$f"; then echo "$(basename "$f" .pid): running, pid $(cat "$f")"; else echo "$(basename "$f" .pid): dead"; fi
    done
    ;;
  *)
    echo "usage: $0 start [--dir DIR] [--build DIR] [--chat-port N] [--metrics-port N] [--nats-port N] [--route-port N] [node options...] | stop [--dir DIR] | status [--dir DIR] | clean [--dir DIR]" >&2
    exit 2
    ;;
esac
