#!/usr/bin/env bash
# Tests that bite, for the cluster's promises (issue 16, point 9; scripts/mutants.sh does the
# same for the local ones): applies each mutation below to a scratch copy of the tree, builds
# only what its tests need, runs them (real nats-server and node processes) and reports
# "killed" (a test failed, as it should) or "SURVIVED". Not part of CI: minutes on 2 cores.
#   scripts/cluster-mutants.sh             every mutant
#   scripts/cluster-mutants.sh NAME...     only these (names as listed by --list)
#   scripts/cluster-mutants.sh --list
#   --dir DIR (first argument)             the scratch copy [/tmp/achat-cluster-mutants]
# The exit status is the number of survivors (and mutations that no longer apply). The copy is
# the working tree's tracked files, built there once and rebuilt per mutant.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=/tmp/achat-cluster-mutants
if [ "${1:-}" = "--dir" ]; then scratch=$2; shift 2; fi

# name | file | text to replace | replacement | meson tests | gtest filter (empty: all)
mutants=(
  "release-delete-unguarded|src/cluster/claim_refresher.cpp|    options.ExpectLastSubjectSeq = claim.revision;|    if (write != ClaimWrite::remove) options.ExpectLastSubjectSeq = claim.revision;|cluster-guards|Guards.AReleaseNeverDeletesAClaimAnotherNodeWroteSince"
  "adoption-past-a-delete|src/cluster/claims_bucket.cpp|if (next.deleted |if ((void)next.deleted, false |cluster-keeper|KeeperTest.AClaimDeletedAndTakenByAnotherNodeIsLostNotAdopted:KeeperTest.AdoptsItsOwnClaimRewrittenWithoutItsKnowledge"
  "refresh-every-ttl|src/cluster/keeper.cpp|const auto period = ttl / 3;|const auto period = ttl;|cluster-guards|Guards.ASessionOutlivesSeveralTtlsWhileNatsConfirmsItsClaim"
  "gaps-not-counted|src/cluster/subscriber.cpp|      ClusterStats::add(stats_.gaps);\n||cluster-guards|Guards.APublicationLostOnTheWayIsCountedAsAGap"
  "twin-not-refused|src/cluster/node.cpp|    throw std::runtime_error(\"cluster: \" + *twin);|    (void)twin;|cluster-presence|Presence.ASecondLiveProcessUnderANodesIdIsRefusedAndTheFirstKeepsItsNames"
  "too-long-line-forwarded|src/cluster/routes.cpp|if (!fits_one_publication(address.size(), delivery->size(), limit)) {|if (false) {|cluster-payload|SmallMaxPayload.*"
  "publication-not-split-at-max-payload|src/cluster/publisher.cpp|if (!destination.payload.empty() && max_bytes_ != 0 &&|if (false &&|cluster-payload|SmallMaxPayload.LinesThatFitAloneButNotTogetherAllArriveInOrder"
  "rebind-disabled|src/cluster/claims_bucket.cpp|  if (!gone && info->Created == epoch()) return BucketCheck::same;|  if (true) return BucketCheck::same;|cluster-rebind|"
  "read-back-ignores-nonce|src/cluster/claim_arbiter.cpp|!record.put_back && record.value == own_value_) {|!record.put_back && false) {|cluster|TwoNodes.ALoginWhoseCreateLostItsAcknowledgementIsReadBackNotLeftToExpire"
  "typed-login-of-another-key-listed|src/cluster/watcher.cpp|name->unique != unique) return {};|unique.empty()) return {};|cluster-guards|Guards.WhoListsAClaimsTypedLoginOnlyIfItIsALoginOfThatKey"
  "release-gives-up-behind-a-loser|src/cluster/keeper.cpp|  if (result == ClaimOutcome::conflict && outcome.epoch == bucket.epoch()) {|  if (false) {|cluster-guards|Guards.AReleaseBehindARacesLoserStillFreesTheName"
  "stale-run-delete-unguarded|src/cluster/watcher.cpp|bucket.remove(kvEntry_Key(entry), kvEntry_Revision(entry))|bucket.remove(kvEntry_Key(entry), 0)|cluster-guards|Guards.ADeadRunsClaimIsDeletedOnlyAsThatRunLeftIt"
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
  IFS='|' read -r name file from to tests filter <<<"$m"
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  cp "$scratch/$file" "$scratch/$file.orig"
  if ! FROM="$from" TO="$to" python3 - "$scratch/$file" <<'PY'
import os, sys
path = sys.argv[1]
text = open(path).read()
unescape = lambda s: s.replace("\\n", "\n")
source, target = unescape(os.environ["FROM"]), unescape(os.environ["TO"])
if text.count(source) != 1:
    sys.exit(1)
open(path, "w").write(text.replace(source, target, 1))
PY
  then
    echo "$name: NOT APPLIED (the code it mutates has changed: update scripts/cluster-mutants.sh)"
    survivors=$((survivors + 1))
    mv "$scratch/$file.orig" "$scratch/$file"
    continue
  fi
  # Only what the named tests run: their executables and the server binary they start.
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
  args=()
  [ -n "$filter" ] && args=("--test-args=--gtest_filter=$filter")
  # shellcheck disable=SC2086
  if ! ninja -C "$scratch/build" $targets src/app/a-chat-server >"$scratch/$name.build.log" 2>&1; then
    echo "$name: killed at build time (see $scratch/$name.build.log)"
  elif meson test -C "$scratch/build" --no-rebuild "${args[@]}" $tests >"$scratch/$name.test.log" 2>&1; then
    echo "$name: SURVIVED ($tests ${filter:+($filter) }all passed; see $scratch/$name.test.log)"
    survivors=$((survivors + 1))
  else
    failed=$(grep -hEo '^\[  FAILED  \] [A-Za-z0-9_.]+' "$scratch/build/meson-logs/testlog.txt" | awk '{print $4}' | sort -u | tr '\n' ' ')
    echo "$name: killed by $tests: ${failed:-see $scratch/$name.test.log}"
  fi
  mv "$scratch/$file.orig" "$scratch/$file"
done
exit "$survivors"
