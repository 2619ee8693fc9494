#!/usr/bin/env bash
# Runs the a-chat-load workloads against the reference relay and the a-chat server, back to back
# on the same machine, and prints each metric for both with the ratio a-chat / relay.
#
#   bench/compare.sh [BUILD_DIR] [workloads...]
#
# BUILD_DIR defaults to build-release (relative to the project root; set up in release mode if
# missing), workloads to "fanout group latency crowd". The raw JSON of every run is kept in
# BUILD_DIR/compare/. If the a-chat server does not exist or does not build yet, only the relay
# runs. Exit status: 0 if every run passed, 1 otherwise.
set -uo pipefail

readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly START_TIMEOUT_S=10   # server must accept connections within this
readonly STOP_TIMEOUT_S=10    # server must exit this long after SIGTERM, or it is killed

build=${1:-build-release}
shift $(( $# > 0 ? 1 : 0 ))
[[ $build == /* ]] || build=$ROOT/$build
workloads=("$@")
(( ${#workloads[@]} > 0 )) || workloads=(fanout group latency crowd)

die() { echo "compare.sh: $*" >&2; exit 2; }

# --- build -------------------------------------------------------------------------------------

results=$build/compare
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$ROOT" -Dbuildtype=release -Dbench=true >/dev/null ||
    die "meson setup failed"
elif [[ $(meson configure "$build" 2>/dev/null |
          awk '$1 == "buildtype" || $1 == "bench" { printf "%s ", $2 }') != "release true " ]]; then
  echo "compare.sh: reconfiguring $build: release build with bench=true" >&2
  meson configure "$build" -Dbuildtype=release -Dbench=true >/dev/null ||
    die "meson configure failed"
fi
mkdir -p "$results" || die "cannot create $results"
build_log=$results/build.log
ninja -C "$build" bench/a-chat-load bench/relay >"$build_log" 2>&1 ||
  die "building the load generator and relay failed (see $build_log)"

load=$build/bench/a-chat-load
relay=$build/bench/relay
achat=$build/src/a-chat-server
# (grep without -q: reading all input keeps ninja from a SIGPIPE that pipefail would report)
if ! ninja -C "$build" -t targets all 2>/dev/null | grep '^src/a-chat-server:' >/dev/null; then
  echo "compare.sh: no a-chat-server target yet; running the relay alone" >&2
  achat=
elif ! ninja -C "$build" src/a-chat-server >>"$build_log" 2>&1; then
  echo "compare.sh: a-chat-server does not build (see $build_log); running the relay alone" >&2
  achat=
fi

# --- servers -----------------------------------------------------------------------------------

# Both processes hold one socket per client (10000 in the crowd workload).
ulimit -n "$(ulimit -Hn)" || die "cannot raise the open-file limit"

server_pid=
cleanup() { [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# True if something accepts TCP connections on 127.0.0.1:$1.
accepting() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on, below the ephemeral range so the load generator's own outgoing
# ports never collide with it. A race with another process is caught by start_server.
free_port() {
  local port
  while true; do
    port=$(( 20000 + RANDOM % 12000 ))
    accepting "$port" || { echo "$port"; return; }
  done
}

# start_server BINARY PORT LOG: starts it in the background (pid in server_pid) and retries
# connecting until it accepts, it dies, or START_TIMEOUT_S passes.
start_server() {
  local binary=$1 port=$2 log=$3
  "$binary" "127.0.0.1:$port" >"$log" 2>&1 &
  server_pid=$!
  local deadline=$(( SECONDS + START_TIMEOUT_S ))
  until accepting "$port"; do
    if ! kill -0 "$server_pid" 2>/dev/null || (( SECONDS >= deadline )); then
      echo "compare.sh: $binary did not start listening on port $port (log: $log)" >&2
      stop_server
      return 1
    fi
    sleep 0.05  # pause between connect attempts
  done
}

# SIGTERM, then wait (at most STOP_TIMEOUT_S) for the exit, else SIGKILL. bash reaps its
# children as they exit and keeps their status for `wait`, so `tail --pid` sees the server gone.
# (`wait -n` on the server and a watchdog would do without tail, but bash 5.2 then sometimes
# loses track of another child: "wait_for: No record of process".)
stop_server() {
  [[ -n $server_pid ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  if ! timeout "$STOP_TIMEOUT_S" tail --pid="$server_pid" -s 0.05 -f /dev/null; then
    echo "compare.sh: server $server_pid ignored SIGTERM for ${STOP_TIMEOUT_S}s; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null
  fi
  wait "$server_pid"
  local status=$?
  # 143 = killed by the SIGTERM (the relay has no handler); anything else but 0 is worth a look.
  if (( status != 0 && status != 143 )); then
    echo "compare.sh: server $server_pid exited with status $status" >&2
  fi
  server_pid=
}

# run_one NAME BINARY WORKLOAD: one server, one load run; JSON to $results/WORKLOAD.NAME.json.
run_one() {
  local name=$1 binary=$2 workload=$3
  local json=$results/$workload.$name.json log=$results/$workload.$name.server.log
  local port
  port=$(free_port)
  start_server "$binary" "$port" "$log" || { echo '{"ok": false}' >"$json"; return 1; }
  "$load" --server "127.0.0.1:$port" --workload "$workload" --json --server-pid "$server_pid" \
      >"$json" 2>"$results/$workload.$name.load.log"
  local status=$?
  stop_server
  if (( status != 0 )); then
    echo "compare.sh: $workload against $name FAILED: $(json_get "$json" error)" >&2
    return 1
  fi
}

# --- report ------------------------------------------------------------------------------------

# json_get FILE KEY: the value of KEY in the one-line flat JSON object a-chat-load prints.
json_get() {
  [[ -f $1 ]] || return 0
  sed -n "s/.*\"$2\": \(\"[^\"]*\"\|[^,}]*\).*/\1/p" "$1" | tr -d '"'
}

# The metrics shown for each workload, in order.
metrics_of() {
  case $1 in
    fanout|group)
      echo delivered_per_s sent_per_s latency_p50_us latency_p99_us latency_p999_us login_ms ;;
    latency)
      echo latency_p50_us latency_p99_us latency_p999_us latency_max_us delivered_per_s \
           send_lag_p99_us ;;
    crowd)
      echo login_ms connect_ms server_rss_per_connection_bytes server_rss_ready_kb \
           server_threads_ready ;;
    *)
      echo delivered_per_s latency_p50_us latency_p99_us login_ms ;;
  esac
}

print_row() {
  local workload=$1 metric=$2 ours=$3 theirs=$4
  local ratio
  ratio=$(awk -v a="$ours" -v r="$theirs" 'BEGIN {
    if (a == "" || r == "" || r + 0 == 0) print "-"; else printf "%.2f", a / r }')
  printf '%-9s %-32s %14s %14s %8s\n' "$workload" "$metric" "${ours:--}" "${theirs:--}" "$ratio"
}

# --- main --------------------------------------------------------------------------------------

failed=0
for workload in "${workloads[@]}"; do
  echo "compare.sh: $workload: relay" >&2
  run_one relay "$relay" "$workload" || failed=1
  if [[ -n $achat ]]; then
    echo "compare.sh: $workload: a-chat" >&2
    run_one a-chat "$achat" "$workload" || failed=1
  fi
done

echo
echo "ratio = a-chat / relay (throughput: higher is better; latency, time, memory: lower is better)"
printf '%-9s %-32s %14s %14s %8s\n' workload metric a-chat relay ratio
for workload in "${workloads[@]}"; do
  ours=$results/$workload.a-chat.json theirs=$results/$workload.relay.json
  [[ -n $achat ]] || ours=/nonexistent
  print_row "$workload" ok "$(json_get "$ours" ok)" "$(json_get "$theirs" ok)"
  for metric in $(metrics_of "$workload"); do
    print_row "$workload" "$metric" \
        "$(json_get "$ours" "$metric")" "$(json_get "$theirs" "$metric")"
  done
done
echo "raw results: $results"
exit "$failed"
