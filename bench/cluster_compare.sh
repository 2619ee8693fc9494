#!/usr/bin/env bash
# Runs a workload against one standalone a-chat node, then against 2 and 3 nodes joined through
# one NATS server, with the load generator's clients split evenly over the nodes (client i on
# node i mod n) and recipients drawn at random from all clients, so (n-1)/n of the deliveries
# cross nodes. Prints each metric per node count and its ratio to the single node.
#
#   bench/cluster_compare.sh [BUILD_DIR] [workloads...] [--repeat N] [--markdown]
#
# Workloads: fanout latency (both by default), as in a-chat-load. BUILD_DIR defaults to
# build-release (release, bench=true; set up if missing). Each repetition runs 1, 2 and 3 nodes
# back to back. NATS, the nodes and the load generator share this machine's cores: on a small
# machine the ratios show what the hop through NATS costs when CPU is scarce too.
# ACHAT_SERVER=PATH runs that a-chat-server binary instead of BUILD_DIR's (an older build, to
# measure a change against its baseline in the same session).
# With the latency workload each repetition also runs a-chat-nats-latency on a fresh nats-server
# of its own (the anchor: what one NATS hop costs here, at the rate that workload sends across
# two nodes), and the summary checks the target: the 2-node p99 added over 1 node is at most the
# anchor's p99 + 1 ms.
# Exit status: 0 if every run passed, 1 otherwise, 2 on a bad command line.
set -uo pipefail

readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "cluster_compare.sh: $*" >&2; exit 2; }

command_line=$(printf '%q ' "$0" "$@")  # before the arguments are consumed
if [[ -n ${ACHAT_SERVER:-} ]]; then command_line="ACHAT_SERVER=$(printf '%q' "$ACHAT_SERVER") $command_line"; fi
repeat=3
markdown=0
positional=()
while (( $# > 0 )); do
  case $1 in
    --repeat) (( $# >= 2 )) || die "--repeat needs a number"; repeat=$2; shift 2 ;;
    --repeat=*) repeat=${1#--repeat=}; shift ;;
    --markdown) markdown=1; shift ;;
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) positional+=("$1"); shift ;;
  esac
done
[[ $repeat =~ ^[1-9][0-9]*$ ]] || die "--repeat wants a positive integer"
build=${positional[0]:-build-release}
[[ $build == /* ]] || build=$ROOT/$build
workloads=("${positional[@]:1}")
(( ${#workloads[@]} > 0 )) || workloads=(fanout latency)
command -v nats-server >/dev/null || PATH=$PATH:/usr/sbin
command -v nats-server >/dev/null || die "nats-server is missing: bash scripts/setup.sh --cluster"

if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" "$ROOT" -Dbuildtype=release -Dbench=true >/dev/null || die "meson setup failed"
fi
ninja -C "$build" src/app/a-chat-server bench/a-chat-load bench/a-chat-nats-latency >/dev/null || die "build failed"
server=${ACHAT_SERVER:-$build/src/app/a-chat-server}
[[ -x $server ]] || die "no a-chat-server at $server"
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/ports.sh
source "$ROOT/bench/ports.sh"
wait_accepting() {  # port pid
  local deadline=$(( SECONDS + 10 ))
  until accepting "$1"; do
    kill -0 "$2" 2>/dev/null && (( SECONDS < deadline )) || return 1
    sleep 0.05  # pause between connect attempts
  done
}
stop_all() {  # SIGTERM, then wait: nodes release their logins before NATS goes
  local pid
  for pid in "${pids[@]:1}" "${pids[0]:-}"; do
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null
    timeout 10 tail --pid="$pid" -s 0.05 -f /dev/null || kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  pids=()
}

# run_one NODES WORKLOAD REP: writes $work/WORKLOAD.NODES.REP.json
run_one() {
  local nodes=$1 workload=$2 rep=$3 servers="" first_pid="" nats_port
  local json=$work/$workload.$nodes.$rep.json
  if (( nodes > 1 )); then
    nats_port=$(free_port)
    nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/store.$nodes.$rep" >"$work/nats.log" 2>&1 &
    pids+=($!)
    wait_accepting "$nats_port" "$!" || { echo '{"ok": false}' >"$json"; stop_all; return 1; }
  else
    pids+=("")
  fi
  for (( i = 0; i < nodes; ++i )); do
    local port cluster=()
    port=$(free_port)
    (( nodes > 1 )) && cluster=(--cluster "nats://127.0.0.1:$nats_port" --node-id "n$i")
    "$server" "127.0.0.1:$port" "${cluster[@]}" >"$work/node$i.log" 2>&1 &
    pids+=($!)
    wait_accepting "$port" "$!" || { echo '{"ok": false}' >"$json"; stop_all; return 1; }
    # A node accepts before it has reached NATS; logins need its claims bucket and directory.
    local ready_by=$(( SECONDS + 20 ))
    while (( nodes > 1 )) && ! grep -q "cluster: ready" "$work/node$i.log"; do
      if (( SECONDS >= ready_by )); then
        echo "cluster_compare.sh: node $i never became ready" >&2
        echo '{"ok": false}' >"$json"; stop_all; return 1
      fi
      sleep 0.05  # pause between looks at the log
    done
    servers+="${servers:+,}127.0.0.1:$port"
    [[ -n $first_pid ]] || first_pid=$!
  done
  "$build/bench/a-chat-load" --server "$servers" --workload "$workload" --json \
      --server-pid "$first_pid" >"$json" 2>"$work/load.log"
  local status=$?
  stop_all
  (( status == 0 )) || echo "cluster_compare.sh: $workload on $nodes nodes (repetition $rep) FAILED:" \
    "$(sed -n 's/.*"error": "\([^"]*\)".*/\1/p' "$json")" >&2
  return "$status"
}

# run_anchor REP: writes $work/anchor.REP.json
run_anchor() {
  local rep=$1 nats_port
  nats_port=$(free_port)
  nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/anchor-store.$rep" >"$work/anchor-nats.log" 2>&1 &
  pids+=($!)
  wait_accepting "$nats_port" "$!" || { echo '{"ok": false}' >"$work/anchor.$rep.json"; stop_all; return 1; }
  "$build/bench/a-chat-nats-latency" --url "nats://127.0.0.1:$nats_port" --json >"$work/anchor.$rep.json"
  local status=$?
  stop_all
  return "$status"
}

failed=0
for workload in "${workloads[@]}"; do
  for (( rep = 1; rep <= repeat; ++rep )); do
    if [[ $workload == latency ]]; then
      echo "cluster_compare.sh: latency $rep/$repeat: NATS alone (the anchor)" >&2
      run_anchor "$rep" || failed=1
    fi
    for nodes in 1 2 3; do
      echo "cluster_compare.sh: $workload $rep/$repeat: $nodes node(s)" >&2
      run_one "$nodes" "$workload" "$rep" || failed=1
    done
  done
done

python3 - "$work" "$repeat" "$markdown" "$command_line" "${workloads[@]}" <<'PY'
import json, statistics, sys
work, repeat, markdown, command, workloads = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5:]
metrics = ["delivered_per_s", "latency_p50_us", "latency_p99_us", "latency_p999_us", "login_ms"]
def load(w, n, r):
    try:
        return json.load(open(f"{work}/{w}.{n}.{r}.json"))
    except (OSError, ValueError):
        return {}
rows = []
for w in workloads:
    runs = {n: [load(w, n, r) for r in range(1, repeat + 1)] for n in (1, 2, 3)}
    for m in metrics:
        med = {}
        for n in (1, 2, 3):
            values = [r[m] for r in runs[n] if isinstance(r.get(m), (int, float))]
            med[n] = statistics.median(values) if values else None
        ok = {n: sum(r.get("ok") is True for r in runs[n]) for n in (1, 2, 3)}
        ratio = lambda n: f"{med[n] / med[1]:.2f}" if med[n] is not None and med[1] else "-"
        fmt = lambda v: "-" if v is None else (f"{v:.0f}" if v >= 100 else f"{v:.2f}")
        rows.append([w, m, fmt(med[1]), fmt(med[2]), ratio(2), fmt(med[3]), ratio(3),
                     f"{ok[1]}/{ok[2]}/{ok[3]} of {repeat}"])
cols = ["workload", "metric", "1 node", "2 nodes", "2 / 1", "3 nodes", "3 / 1", "runs ok (1/2/3)"]
if markdown:
    print(f"`{command.strip()}` (medians of the repetitions)\n")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join(["---", "---"] + ["---:"] * 5 + ["---"]) + "|")
    for r in rows:
        print("| " + " | ".join([r[0], f"`{r[1]}`"] + r[2:]) + " |")
else:
    f = "{:<9} {:<16} {:>12} {:>12} {:>6} {:>12} {:>6} {:>16}"
    print(f.format(*cols))
    for r in rows:
        print(f.format(*r))
if "latency" in workloads:
    def anchor(r):
        try:
            return json.load(open(f"{work}/anchor.{r}.json"))
        except (OSError, ValueError):
            return {}
    anchors = [anchor(r) for r in range(1, repeat + 1)]
    def median(values):
        values = [v for v in values if isinstance(v, (int, float))]
        return statistics.median(values) if values else None
    nats = {m: median(a.get(f"nats_{m}") for a in anchors) for m in ("p50_us", "p99_us", "p999_us")}
    ok = sum(a.get("ok") is True for a in anchors)
    p99 = {n: median(load("latency", n, r).get("latency_p99_us") for r in range(1, repeat + 1)) for n in (1, 2)}
    print()
    if nats["p99_us"] is None:
        print(f"anchor (NATS alone): no run passed ({ok} of {repeat})")
    else:
        rate = next((a["rate"] for a in anchors if "rate" in a), "?")
        print(f"anchor (NATS alone, a-chat-nats-latency, {rate} publications/s over two connections, "
              f"runs ok {ok} of {repeat}): p50 {nats['p50_us']:.0f} us, p99 {nats['p99_us']:.0f} us, "
              f"p999 {nats['p999_us']:.0f} us")
        if p99[1] is not None and p99[2] is not None:
            added = p99[2] - p99[1]
            allowed = nats["p99_us"] + 1000
            if added < 0:
                verdict = "not measurable in this run (1 node's p99 above 2 nodes': noise larger than the effect)"
            else:
                verdict = "met" if added <= allowed else "NOT met"
            print(f"target: 2-node p99 added over 1 node {added:.0f} us <= anchor p99 + 1 ms = "
                  f"{allowed:.0f} us: {verdict} (ratio {added / allowed:.2f})")
PY
exit "$failed"
