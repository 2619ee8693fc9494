#!/usr/bin/env bash
# Sets up, builds and runs every a-chat test: the normal build, AddressSanitizer+UBSan,
# ThreadSanitizer, and a bounded libFuzzer run. The last line is the tally, "N passed, M failed";
# the exit status is non-zero if anything failed.
#   ACHAT_VARIANTS   which builds to test (default "release address thread fuzz")
#   ACHAT_FUZZ_SECONDS  fuzzing time per target (default 60)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

variants=${ACHAT_VARIANTS:-release address thread fuzz}
fuzz_seconds=${ACHAT_FUZZ_SECONDS:-60}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# Every build keeps its own directory, so a rerun only rebuilds what changed.
run_suite() {  # name, meson options...
  local name=$1; shift
  local dir="build-test-$name"
  echo "=== $name: build" >&2
  if [ ! -d "$dir" ]; then
    meson setup "$dir" "$@" >/dev/null || { echo "$name:setup FAIL" >>"$results"; return; }
  fi
  if ! ninja -C "$dir" >"$dir.build.log" 2>&1; then
    tail -40 "$dir.build.log" >&2
    echo "$name:build FAIL" >>"$results"
    return
  fi
  echo "=== $name: test" >&2
  meson test -C "$dir" --print-errorlogs --num-processes 2 --no-suite soak >&2
  if [ -f "$dir/meson-logs/testlog.json" ]; then
    python3 scripts/tally.py "$name" "$dir/meson-logs/testlog.json" >>"$results"
  else
    echo "$name:test FAIL" >>"$results"
  fi
}

run_fuzz() {
  local dir=build-test-fuzz
  echo "=== fuzz: build" >&2
  if [ ! -d "$dir" ]; then
    CXX=clang++ meson setup "$dir" -Dfuzz=true -Dbench=false -Dbuildtype=debugoptimized \
      -Db_ndebug=false >/dev/null || { echo "fuzz:setup FAIL" >>"$results"; return; }
  fi
  if ! ninja -C "$dir" tests/fuzz/protocol_fuzzer >"$dir.build.log" 2>&1; then
    tail -40 "$dir.build.log" >&2
    echo "fuzz:build FAIL" >>"$results"
    return
  fi
  echo "=== fuzz: ${fuzz_seconds}s" >&2
  local corpus
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/* "$corpus"/
  if "$dir/tests/fuzz/protocol_fuzzer" -max_total_time="$fuzz_seconds" -max_len=4096 -artifact_prefix="$dir/" \
       "$corpus" >"$dir.fuzz.log" 2>&1; then
    echo "fuzz:protocol_fuzzer PASS" >>"$results"
  else
    tail -40 "$dir.fuzz.log" >&2
    echo "fuzz:protocol_fuzzer FAIL" >>"$results"
  fi
  rm -rf "$corpus"
}

# Debug information is line tables only (-g1): enough for sanitizer reports and backtraces with
# file:line, at a fraction of -g's compile time. The ASan build is -O1 (what the ASan docs
# advise), the TSan build -O2 (what the TSan docs advise for reasonable speed: its stress tests
# run thousands of threads). Under ASan, -O1 -g1 compiled broker.cpp 2.3x faster than -O2 -g
# (CPU time); -g1 alone 1.6x. This keeps CI under its time limit.
fast_debug=(-Ddebug=false -Dcpp_args=-g1 -Db_ndebug=false)
for variant in $variants; do
  case $variant in
    release) run_suite release -Doptimization=2 "${fast_debug[@]}" ;;
    address) run_suite address -Dsanitizer=address -Doptimization=1 "${fast_debug[@]}" -Dbench=false ;;
    thread)  run_suite thread -Dsanitizer=thread -Doptimization=2 "${fast_debug[@]}" -Dbench=false ;;
    fuzz)    run_fuzz ;;
    *) echo "unknown variant $variant" >&2; echo "$variant FAIL" >>"$results" ;;
  esac
done

failed=$(grep -c ' FAIL$' "$results" || true)
passed=$(grep -c ' PASS$' "$results" || true)
grep ' FAIL$' "$results" | sed 's/^/failed: /' >&2 || true
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
