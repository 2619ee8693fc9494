#!/usr/bin/env bash
# Tests that bite: applies each known mutation to a scratch copy of the tree, builds and runs the
# tests that should catch it, and reports "killed" (a test failed, as it should) or "SURVIVED".
# Not part of CI: each mutant rebuilds what its tests need (minutes on 2 cores).
#   scripts/mutants.sh            every mutant
#   scripts/mutants.sh NAME...    only these (names as listed by --list)
#   scripts/mutants.sh --list
# The exit status is the number of survivors. The copy is the working tree's tracked files, in
# ACHAT_MUTANTS_DIR (default /tmp/achat-mutants), built there once and rebuilt per mutant.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${ACHAT_MUTANTS_DIR:-/tmp/achat-mutants}

# name | file | text to replace | replacement | meson tests that must fail
mutants=(
  "flow-control-off|include/achat/connection.h|while (outstanding > 0 && outstanding + bytes > limit) {|while (false && outstanding + bytes > limit) {|flow-control"
  "broker-spin-no-op|include/achat/channel.h|if (typical_wait_ < spin_) {|if (false) {|kernel-tuning"
  "futex-hash-prctl-deleted|src/ops/futex_hash.cpp|::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, slots, 0, 0);|(void)slots;|kernel-tuning"
  "sched-batch-deleted|src/ops/thread_policy.h|::sched_setscheduler(0, SCHED_BATCH, &param);|(void)param;|kernel-tuning"
  "listener-options-deleted|src/server/server.cpp|  set_connection_options(listener_, config_.limits);|  (void)0;|kernel-tuning"
  "crew-role-preference-off|src/server/crew.cpp|if ((*at)->role == role) {|if (false) {|crew-cache"
  "crew-rename-skipped|src/server/crew.cpp|  if (role != named) {|  if (named.empty()) {|crew-cache"
  "prestarted-threads-retired|src/server/crew.cpp|parked_.size() > kept_);|((void)kept_, true));|crew-cache"
  "send-all-polling-no-wait|src/common/socket.cpp|if (!wait_for(fd(), POLLOUT, static_cast<int>(stall.count()))) {|if ((void)stall, true) {|socket"
  "inbox-lanes-zero|src/server/broker.h|kInboxLanes = 32;|kInboxLanes = 0;|channel"
  "login-deadline-from-thread-start|src/server/reader.cpp|lines.set_deadline(accepted_at +|lines.set_deadline(std::chrono::steady_clock::now() +|hostile bounds"
)

if [ "${1:-}" = "--list" ]; then
  for m in "${mutants[@]}"; do echo "${m%%|*}"; done
  exit 0
fi

rm -rf "$scratch"
mkdir -p "$scratch"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$scratch")
meson setup "$scratch/build" "$scratch" -Dbuildtype=debugoptimized -Db_ndebug=false -Dbench=false \
  >/dev/null || exit 1

survivors=0
for m in "${mutants[@]}"; do
  IFS='|' read -r name file from to tests <<<"$m"
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  cp "$scratch/$file" "$scratch/$file.orig"
  if ! FROM="$from" TO="$to" python3 - "$scratch/$file" <<'PY'
import os, sys
path = sys.argv[1]
text = open(path).read()
if os.environ["FROM"] not in text:
    sys.exit(1)
open(path, "w").write(text.replace(os.environ["FROM"], os.environ["TO"], 1))
PY
  then
    echo "$name: NOT APPLIED (the code it mutates has changed: update scripts/mutants.sh)"
    survivors=$((survivors + 1))
    continue
  fi
  # Only what the named tests run: their executables (and the server binary they may start).
  # shellcheck disable=SC2086
  targets=$(cd "$scratch/build" && meson introspect --tests | TESTS="$tests" python3 -c '
import json, os, sys
wanted = set(os.environ["TESTS"].split())
build = os.getcwd() + "/"
for test in json.load(sys.stdin):
    if test["name"] in wanted:
        for part in test["cmd"] + test.get("depends", []):
            if part.startswith(build):
                print(part[len(build):])
')
  # shellcheck disable=SC2086
  if ! ninja -C "$scratch/build" $targets src/app/a-chat-server >"$scratch/$name.build.log" 2>&1; then
    echo "$name: killed at build time (see $scratch/$name.build.log)"
  elif meson test -C "$scratch/build" --no-rebuild $tests >"$scratch/$name.test.log" 2>&1; then
    echo "$name: SURVIVED ($tests all passed)"
    survivors=$((survivors + 1))
  else
    echo "$name: killed by $(sed -nE 's|^ *[0-9]+/[0-9]+ [^ ]+ / ([^ ]+) +FAIL.*|\1|p' "$scratch/$name.test.log" | sort -u | tr '\n' ' ')"
  fi
  mv "$scratch/$file.orig" "$scratch/$file"
done
exit "$survivors"
