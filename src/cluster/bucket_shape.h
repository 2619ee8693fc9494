// What an existing claims bucket must look like for a node to use it, and the one migration.
#pragma once

#include <cstdint>
#include <string>

namespace achat::cluster {

// The settings of the claims bucket's stream that the claims rely on. A plain value.
struct BucketShape {
  std::int64_t max_age_ns = 0;  // the claim TTL
  std::int64_t replicas = 1;
  std::int64_t history = 1;     // messages kept per key (MaxMsgsPerSubject)
  bool allow_direct = false;    // reads (the arbiter's) may be answered by any replica
};

// Messages kept per key. More than one, so that a claim overwritten by a concurrent create
// (nats-server #4320 with several replicas) is still there when the claimants look at the
// stream's order (claim_arbiter.h); all are gone after the TTL anyway (the bucket's max age), so
// a held key keeps about four (a write every third of the TTL).
inline constexpr std::int64_t kClaimHistory = 16;

enum class ShapeVerdict {
  same,     // use it as it is
  migrate,  // the bucket of a-chat before replicas: one replica, one message per key, same TTL;
            // updated in place to `wanted`
  refuse,   // anything else: the node must not run with it
};

ShapeVerdict judge(const BucketShape& found, const BucketShape& wanted);

// One line for the operator: what differs, and what to do about it.
std::string describe_mismatch(const BucketShape& found, const BucketShape& wanted);

}  // namespace achat::cluster
