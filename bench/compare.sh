#!/usr/bin/env bash
# Runs the a-chat-load workloads against the reference relay and the a-chat server, back to back
# on the same machine, and prints each metric for both with the ratio a-chat / relay.
#
#   bench/compare.sh [BUILD_DIR] [workloads...] [--repeat N] [--markdown] [--transport ws]
#                    [--with-floor]
#
# Workloads: fanout fanout-next group latency crowd crowd-active storm churn (all by default, in
# that order); fanout-next is fanout with --pattern next, the old best case. BUILD_DIR is the
# first argument that is not a workload name; it defaults to build-release (relative to the
# project root; set up in release mode if missing). So `bench/compare.sh crowd-active` runs one
# workload. Options may come anywhere.
#   --repeat N   repetitions per workload (default 5 for fanout, fanout-next and group, which
#                take well under a second, 1 for the others, churn's 10 s among them). Each
#                repetition runs the relay and then a-chat, so both see the same background
#                load. The table shows the median of each metric over the repetitions, the ratio
#                of the medians, and the min and max of the per-repetition ratio.
#   --markdown   print the table as Markdown (for bench/RESULTS.md), headed by the command, the
#                date, nproc, the CPU model and the CPUs the processes may run on (they inherit
#                this script's affinity; nothing is pinned, so each runs wherever the scheduler
#                puts it).
#   --transport ws  compares a-chat's WebSocket clients (--web-listen, a-chat-load --transport
#                ws) with its TCP clients instead of a-chat with the relay: columns "ws" and
#                "tcp", ratio ws / tcp; each repetition runs TCP, then WebSocket.
#   --with-floor also runs a-chat-floor (bench/floor_server.cpp: a-chat's design without its
#                limits, accounting, stats or logging) in each repetition, between the relay and
#                a-chat; the table then shows a-chat, floor and relay with the ratios
#                a-chat/relay, floor/relay (the design's price) and a-chat/floor (ours to close).
# Every run's generator CPU (load_cpu_pct, % of one core) is listed under the table, and a run
# where it exceeded 80% is marked: there the generator, not the server, may have set the pace.
# The raw JSON of every run is kept in BUILD_DIR/compare/ as WORKLOAD.SERVER.REP.json. For
# a-chat, wakeups_per_line and broker_batch come from the summary its log ends with. If the
# a-chat server does not exist or does not build yet, only the relay runs.
# ACHAT_SERVER=PATH runs that a-chat-server binary instead of BUILD_DIR's (an older build, to
# measure a change against its baseline in the same run); ACHAT_RESULTS=DIR keeps the raw JSON
# there instead of BUILD_DIR/compare.
# Exit status: 0 if every run passed, 1 otherwise, 2 on a bad command line or a build failure.
set -uo pipefail

readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly START_TIMEOUT_S=10   # server must accept connections within this
readonly STOP_TIMEOUT_S=30    # server must exit this long after SIGTERM, or it is killed (ending
                              # 20,000 parked threads took 11 s on the loaded 2-vCPU VM)

die() { echo "compare.sh: $*" >&2; exit 2; }
usage() { sed -n '5,37s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

readonly ALL_WORKLOADS=(fanout fanout-next group latency crowd crowd-active storm churn)
is_workload() { [[ " ${ALL_WORKLOADS[*]} " == *" $1 "* ]]; }

command_line=$(printf '%q ' "$0" "$@")
command_line=${command_line% }

repeat=       # empty: per-workload default
markdown=0
transport=tcp
with_floor=0
positional=()
while (( $# > 0 )); do
  case $1 in
    --repeat)    (( $# >= 2 )) || die "--repeat needs a number"; repeat=$2; shift 2 ;;
    --repeat=*)  repeat=${1#--repeat=}; shift ;;
    --markdown)  markdown=1; shift ;;
    --with-floor) with_floor=1; shift ;;
    --transport) (( $# >= 2 )) || die "--transport needs tcp or ws"; transport=$2; shift 2 ;;
    --transport=*) transport=${1#--transport=}; shift ;;
    -h|--help)   usage; exit 0 ;;
    --)          shift; positional+=("$@"); break ;;
    -*)          die "unknown option $1 (see --help)" ;;
    *)           positional+=("$1"); shift ;;
  esac
done
if [[ -n $repeat ]] && ! [[ $repeat =~ ^[1-9][0-9]*$ ]]; then
  die "--repeat wants a positive integer, not '$repeat'"
fi
[[ $transport == tcp || $transport == ws ]] || die "--transport is tcp or ws, not '$transport'"
[[ $transport == tcp ]] || (( ! with_floor )) || die "--with-floor compares servers over TCP"
command -v python3 >/dev/null || die "python3 is needed for the statistics"

build=
workloads=()
for word in "${positional[@]}"; do
  if is_workload "$word"; then
    workloads+=("$word")
  elif [[ -z $build ]]; then
    build=$word
  else
    die "unknown workload '$word' (${ALL_WORKLOADS[*]})"
  fi
done
build=${build:-build-release}
[[ $build == /* ]] || build=$ROOT/$build
(( ${#workloads[@]} > 0 )) || workloads=("${ALL_WORKLOADS[@]}")

# repeats_of WORKLOAD: how many repetitions it gets.
repeats_of() {
  if [[ -n $repeat ]]; then echo "$repeat"
  else case $1 in fanout|fanout-next|group) echo 5 ;; *) echo 1 ;; esac
  fi
}

# load_args_of WORKLOAD: the a-chat-load options that select it.
load_args_of() {
  case $1 in
    fanout-next) echo --workload fanout --pattern next ;;
    *)           echo --workload "$1" ;;
  esac
}

# --- build -------------------------------------------------------------------------------------

results=${ACHAT_RESULTS:-$build/compare}
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
# The relay only for the relay comparison (--transport ws runs a-chat alone, also in a tree
# without ../shared/reference, such as a git worktree).
relay_target=bench/relay
[[ $transport == ws ]] && relay_target=
ninja -C "$build" bench/a-chat-load $relay_target >"$build_log" 2>&1 ||
  die "building the load generator and relay failed (see $build_log)"

load=$build/bench/a-chat-load
relay=$build/bench/relay
floor=
if (( with_floor )); then
  ninja -C "$build" bench/a-chat-floor >>"$build_log" 2>&1 ||
    die "building a-chat-floor failed (see $build_log)"
  floor=$build/bench/a-chat-floor
fi
achat=$build/src/app/a-chat-server
# (grep without -q: reading all input keeps ninja from a SIGPIPE that pipefail would report)
if [[ -n ${ACHAT_SERVER:-} ]]; then
  [[ -x $ACHAT_SERVER ]] || die "ACHAT_SERVER=$ACHAT_SERVER is not an executable"
  achat=$ACHAT_SERVER
elif ! ninja -C "$build" -t targets all 2>/dev/null | grep '^src/app/a-chat-server:' >/dev/null; then
  echo "compare.sh: no a-chat-server target yet; running the relay alone" >&2
  achat=
elif ! ninja -C "$build" src/app/a-chat-server >>"$build_log" 2>&1; then
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

# shellcheck source=bench/ports.sh
source "$ROOT/bench/ports.sh"

# start_server BINARY PORT LOG [SERVER_ARGS...]: starts it in the background (pid in server_pid)
# and retries connecting to PORT until it accepts, it dies, or START_TIMEOUT_S passes.
start_server() {
  local binary=$1 port=$2 log=$3
  shift 3
  "$binary" "127.0.0.1:$port" "$@" >"$log" 2>&1 &
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

# wait_accepting PORT: true once the running server accepts on PORT (within START_TIMEOUT_S).
wait_accepting() {
  local deadline=$(( SECONDS + START_TIMEOUT_S ))
  until accepting "$1"; do
    if ! kill -0 "$server_pid" 2>/dev/null || (( SECONDS >= deadline )); then
      echo "compare.sh: the server did not listen on port $1" >&2
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

# run_one NAME BINARY WORKLOAD REP [ws]: one server, one load run (its clients over WebSocket
# with ws); JSON to $results/WORKLOAD.NAME.REP.json.
run_one() {
  local name=$1 binary=$2 workload=$3 rep=$4 over=${5:-tcp}
  local stem=$results/$workload.$name.$rep
  local json=$stem.json log=$stem.server.log
  local port clients_port server_args=()
  port=$(free_port)
  clients_port=$port
  if [[ $over == ws ]]; then
    clients_port=$(free_port)
    server_args=(--web-listen "127.0.0.1:$clients_port")
  fi
  start_server "$binary" "$port" "$log" "${server_args[@]}" ||
    { echo '{"ok": false}' >"$json"; return 1; }
  if [[ $over == ws ]] && ! wait_accepting "$clients_port"; then
    stop_server
    echo '{"ok": false}' >"$json"
    return 1
  fi
  # shellcheck disable=SC2046  # load_args_of prints separate words on purpose
  "$load" --server "127.0.0.1:$clients_port" --transport "$over" $(load_args_of "$workload") --json \
      --server-pid "$server_pid" >"$json" 2>"$stem.load.log"
  local status=$?
  stop_server
  if (( status != 0 )); then
    echo "compare.sh: $workload against $name (repetition $rep) FAILED: $(json_get "$json" error)" >&2
    return 1
  fi
}

# --- report ------------------------------------------------------------------------------------

# json_get FILE KEY: the value of KEY in the one-line flat JSON object a-chat-load prints.
json_get() {
  [[ -f $1 ]] || return 0
  sed -n "s/.*\"$2\": \(\"[^\"]*\"\|[^,}]*\).*/\1/p" "$1" | tr -d '"'
}

# The metrics shown for each workload, in order. wakeups_per_line and broker_batch are read from
# the a-chat server's log; load_cpu_pct near 100 means the generator, not the server, set the pace.
metrics_of() {
  local server_work="server_cpu_us_per_delivery server_switches_per_delivery server_idle_cpu_pct wakeups_per_line broker_batch"
  case $1 in
    fanout|fanout-next|group)
      echo delivered_per_s sent_per_s latency_p50_us latency_p99_us latency_p999_us login_ms \
           "$server_work" load_cpu_pct ;;
    latency)
      echo latency_p50_us latency_p99_us latency_p999_us latency_max_us delivered_per_s \
           send_lag_p99_us send_lag_max_us "$server_work" load_cpu_pct ;;
    crowd)
      echo login_ms connect_ms server_rss_per_connection_bytes server_rss_ready_kb \
           server_threads_ready server_idle_cpu_pct server_rss_end_kb server_threads_end ;;
    storm)
      echo login_ms first_login_ms connect_ms server_rss_ready_kb server_threads_ready \
           server_idle_cpu_pct server_rss_end_kb server_threads_end ;;
    churn)
      echo connections_per_s connections failures cycle_p50_ms cycle_p99_ms cycle_max_ms \
           server_cpu_us_per_connection server_switches_per_connection load_cpu_pct \
           server_rss_end_kb server_threads_end ;;
    crowd-active)
      echo latency_p50_us latency_p99_us latency_p999_us latency_max_us send_lag_p99_us \
           send_lag_max_us delivered_per_s login_ms "$server_work" load_cpu_pct \
           server_rss_end_kb server_threads_end ;;
  esac
}

# report SPEC...: the table, from the JSON files. Each SPEC is WORKLOAD:REPS:HAVE_ACHAT:METRICS
# (METRICS comma-separated). Medians over the repetitions that produced a value; the ratio
# columns compare the servers within each repetition where both have a value. $servers names
# the columns: subject[,floor],baseline.
report() {
  python3 - "$results" "$markdown" "$header" "$servers" "$@" <<'PY'
import json, re, statistics, sys

results, markdown, header = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
servers, specs = sys.argv[4].split(","), sys.argv[5:]
subject, baseline = servers[0], servers[-1]
floor = servers[1] if len(servers) == 3 else None
LOAD_SATURATED_PCT = 80  # issue 18, point 4: above this, the generator may have set the pace

# From the summary the a-chat server logs last on SIGTERM ("... stopped: ..."). The relay and
# the floor log nothing, so they have neither.
SUMMARY_NUMBERS = {
    "wakeups_per_line": re.compile(r"writer wake-ups \d+ \(([0-9.]+) per line written\)"),
    "broker_batch": re.compile(r"broker rounds \d+ \(average batch ([0-9.]+)\)"),
}

def server_summary(stem):
    try:
        with open(f"{stem}.server.log", errors="replace") as f:
            summaries = [line for line in f if re.search(r"(^|\s)stopped: ", line)]
    except OSError:
        return {}
    if not summaries:
        return {}
    found = ((key, pattern.search(summaries[-1])) for key, pattern in SUMMARY_NUMBERS.items())
    return {key: float(match.group(1)) for key, match in found if match}

def load(workload, name, rep):
    stem = f"{results}/{workload}.{name}.{rep}"
    try:
        with open(f"{stem}.json") as f:
            run = json.loads(f.read() or "{}")
    except (OSError, ValueError):
        run = {}
    return {**run, **server_summary(stem)}

def num(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

def fmt(x):
    if x is None:
        return "-"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.0f}" if abs(x) >= 1e4 else f"{x:.1f}" if abs(x) >= 100 else f"{x:.3f}"

def ratio(a, r):
    return a / r if a is not None and r is not None and r != 0 else None

def rfmt(x):
    return "-" if x is None else f"{x:.2f}"

def med(xs):
    v = [x for x in xs if x is not None]
    return statistics.median(v) if v else None

# Ratio columns: (numerator, denominator); each gets the ratio of the medians and, for the
# first, the smallest and largest ratio of a single repetition.
pairs = [(subject, baseline)] if floor is None else [(subject, baseline), (floor, baseline), (subject, floor)]
if floor is None:
    cols = ["workload", "metric", subject, baseline, "ratio", "r.min", "r.max"]
else:
    cols = ["workload", "metric", subject, floor, baseline, f"{subject}/{baseline}",
            f"{floor}/{baseline}", f"{subject}/{floor}", "a/f min", "a/f max"]
rows = []
cpu_notes = []
for spec in specs:
    workload, reps, have_achat, metrics = spec.split(":")
    reps = int(reps)
    present = [s for s in servers if s != subject or have_achat == "1"]
    runs = {s: [load(workload, s, i) for i in range(1, reps + 1)] if s in present else None
            for s in servers}
    passed = lambda rs: f"{sum(r.get('ok') is True for r in rs)}/{reps}" if rs else "-"
    rows.append([workload, f"ok (of {reps})"] + [passed(runs[s]) for s in servers] +
                ["-"] * (len(cols) - 2 - len(servers)))
    for metric in metrics.split(","):
        values = {s: [num(r.get(metric)) for r in runs[s]] if runs[s] else [None] * reps
                  for s in servers}
        medians = {s: med(values[s]) for s in servers}
        row = [workload, metric] + [fmt(medians[s]) for s in servers]
        row += [rfmt(ratio(medians[a], medians[b])) for a, b in pairs]
        a, b = pairs[-1]
        per_rep = [x for x in map(ratio, values[a], values[b]) if x is not None]
        row += [rfmt(min(per_rep)) if per_rep else "-", rfmt(max(per_rep)) if per_rep else "-"]
        rows.append(row)
    # The generator's CPU of every run, marked where it neared saturation (issue 18, point 4).
    per_server = []
    for s in present:
        shown = []
        for r in runs[s]:
            pct = num(r.get("load_cpu_pct"))
            shown.append("-" if pct is None else
                         f"{pct:.0f}%" + (" (SATURATED)" if pct > LOAD_SATURATED_PCT else ""))
        per_server.append(f"{s} " + ", ".join(shown))
    cpu_notes.append(f"{workload}: " + "; ".join(per_server))

last = f"{pairs[-1][0]} / {pairs[-1][1]}"
if floor is None:
    legend = (f"{subject}, {baseline}: the medians over the repetitions; ratio = {subject} / {baseline} of the medians;\n"
              f"r.min, r.max: smallest and largest {last} of a single repetition\n"
              "(throughput: higher is better; latency, time, memory: lower is better)")
else:
    legend = (f"{subject}, {floor}, {baseline}: the medians over the repetitions; the ratio columns divide the medians;\n"
              f"{subject}/{floor} is the gap ours to close, {floor}/{baseline} the design's price;\n"
              f"a/f min, a/f max: smallest and largest {last} of a single repetition\n"
              "(throughput: higher is better; latency, time, memory: lower is better)")
cpu_legend = (f"The generator's CPU per run (load_cpu_pct, % of one core over the timed phase), in order "
              f"of repetition; SATURATED: above {LOAD_SATURATED_PCT}%, so that run's throughput may "
              "be the generator's, not the server's:")
if markdown:
    if floor is None:
        cols = cols[:5] + ["min ratio", "max ratio"]
        legend = legend.replace("r.min, r.max", "min ratio, max ratio")
    legend = legend.replace("\n", " ")
    print(header)
    print()
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join(["---", "---"] + ["---:"] * (len(cols) - 2)) + "|")
    for r in rows:
        r = [r[0], f"`{r[1]}`" if not r[1].startswith("ok") else r[1]] + r[2:]
        print("| " + " | ".join(r) + " |")
    print()
    print(legend + ".")
    print()
    print(cpu_legend)
    print()
    for note in cpu_notes:
        print(f"- {note}")
else:
    print()
    print(legend)
    width = [12, 32] + [14] * len(servers) + [7] * (len(cols) - 2 - len(servers))
    if floor is not None:
        width = [12, 32] + [12] * 3 + [12] * 3 + [7, 7]
    fmt_row = " ".join(("{:<%d}" if i < 2 else "{:>%d}") % w for i, w in enumerate(width))
    print(fmt_row.format(*cols))
    for r in rows:
        print(fmt_row.format(*r))
    print()
    print(cpu_legend)
    for note in cpu_notes:
        print(f"  {note}")
PY
}

# --- main --------------------------------------------------------------------------------------

header="\`$command_line\` — $(date '+%Y-%m-%d %H:%M %Z'), nproc $(nproc), CPU: $(
  sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo 2>/dev/null | head -n 1 |
    grep . || echo unknown), CPUs every server and the generator may run on: $(
  taskset -pc $$ 2>/dev/null | sed 's/.*: //' | grep . || echo unknown) (none is pinned)"

failed=0
specs=()
if [[ $transport == ws ]]; then
  [[ -n $achat ]] || die "--transport ws needs the a-chat server"
  subject=ws baseline=tcp
else
  subject=a-chat baseline=relay
fi
servers=$subject${floor:+,floor},$baseline
for workload in "${workloads[@]}"; do
  reps=$(repeats_of "$workload")
  rm -f "$results/$workload".{"$baseline","$subject",floor}.*   # this workload's earlier results
  for (( rep = 1; rep <= reps; ++rep )); do
    echo "compare.sh: $workload $rep/$reps: $baseline" >&2
    if [[ $transport == ws ]]; then
      run_one tcp "$achat" "$workload" "$rep" || failed=1
    else
      run_one relay "$relay" "$workload" "$rep" || failed=1
    fi
    if [[ -n $floor ]]; then
      echo "compare.sh: $workload $rep/$reps: floor" >&2
      run_one floor "$floor" "$workload" "$rep" || failed=1
    fi
    if [[ -n $achat ]]; then
      echo "compare.sh: $workload $rep/$reps: $subject" >&2
      run_one "$subject" "$achat" "$workload" "$rep" "$transport" || failed=1
    fi
  done
  metrics=$(metrics_of "$workload")
  specs+=("$workload:$reps:$([[ -n $achat ]] && echo 1 || echo 0):${metrics// /,}")
done

report "${specs[@]}" || failed=1
if (( markdown )); then
  echo "raw results: $results" >&2
else
  echo "raw results: $results"
fi
exit "$failed"
