#include "bucket_shape.h"

namespace achat::cluster {

namespace {

constexpr std::int64_t kNanosPerMs = 1'000'000;

bool legacy(const BucketShape& found) {
  return found.replicas == 1 && found.history == 1;
}

}  // namespace

ShapeVerdict judge(const BucketShape& found, const BucketShape& wanted) {
  if (found.max_age_ns == wanted.max_age_ns && found.replicas == wanted.replicas &&
      found.history == wanted.history && found.allow_direct == wanted.allow_direct) {
    return ShapeVerdict::same;
  }
  if (found.max_age_ns == wanted.max_age_ns && legacy(found)) return ShapeVerdict::migrate;
  return ShapeVerdict::refuse;
}

std::string describe_mismatch(const BucketShape& found, const BucketShape& wanted) {
  return "cluster: the claims bucket has a claim TTL of " + std::to_string(found.max_age_ns / kNanosPerMs) +
         " ms, " + std::to_string(found.replicas) + " replica(s) and " + std::to_string(found.history) +
         " message(s) per key; this node needs " + std::to_string(wanted.max_age_ns / kNanosPerMs) +
         " ms, " + std::to_string(wanted.replicas) + " and " + std::to_string(wanted.history) +
         ": start every node with the same --claim-ttl-ms and --claim-replicas, or stop them all and "
         "delete the stream KV_achat_logins (README: \"Claims bucket\")";
}

}  // namespace achat::cluster
