// The claims bucket: a JetStream key-value bucket with one key per login online anywhere.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bucket_shape.h"
#include "claim_arbiter.h"
#include "claims_leader.h"

#include "nats_handles.h"

namespace achat::cluster {

inline constexpr const char* kClaimsBucket = "achat_logins";
inline constexpr const char* kClaimsStream = "KV_achat_logins";  // the bucket's stream

// The subject a write of `key` is published on, as cnats's KV calls build it.
inline std::string claim_subject(std::string_view key) {
  return std::string("$KV.") + kClaimsBucket + "." + std::string(key);
}

enum class ClaimOutcome {
  done,
  conflict,     // the key's revision is not the one given: another session holds it (or held it)
  unavailable,  // NATS did not answer in time, or refused for another reason
};

// What ClaimsBucket::verify() found.
enum class BucketCheck {
  same,         // the stream bound is still there
  rebound,      // it was deleted (or deleted and made again): bound again, to a new epoch
  unavailable,  // NATS did not answer, or the stream is gone and cannot be made again yet
};

// Bound by the node's constructor or else the watcher thread, and bound again by the watcher
// (verify()) when the stream was deleted or made again under the running node; after bound() any
// thread may call the operations (cnats serialises them). The kvStore handle is made once and
// kept: it names the bucket, not one stream, so a rebind never frees what another thread uses.
// The bucket's max age is the claim TTL; a
// claim lives while its holder refreshes it. With several replicas (--claim-replicas) nats-server
// 2.9.10 may let two creates of one key both succeed (#4320): create() therefore also asks the
// stream which write came first (claim_arbiter.h) and succeeds only for that one. A create
// whose outcome is unknown (its acknowledgement lost, or the order unreadable) is read back: a
// claim value holds a nonce of its own (claim_record.h), so create() finds its record among the
// key's and settles it like any other (won: done; lost: the winner's record put back), instead
// of leaving an unowned record to block the name until the TTL.
// Epoch: the creation time of the stream bound (jsStreamInfo Created, nanoseconds, by the NATS
// server's clock), not a counter of this node's rebinds. Every node reads the same value for
// one stream without talking to the others, so (epoch, revision) stamps compare across nodes
// (the broker compares its own lease with another node's claim), and a delete followed by a
// re-creation is seen as a new epoch even if it happened between two checks (a node-local
// counter would need to have seen the gap). It grows with each re-creation as long as the NATS
// servers' clocks are not stepped back by more than the time between them.
class ClaimsBucket {
 public:
  ClaimsBucket(natsConnection* connection, std::chrono::milliseconds ttl,
               std::chrono::milliseconds request_timeout, int replicas = 1);
  ClaimsBucket(const ClaimsBucket&) = delete;
  ClaimsBucket& operator=(const ClaimsBucket&) = delete;

  // Creates the bucket or binds to the one another node created, if it has this node's TTL and
  // replicas (bucket_shape.h; today's one-replica bucket is migrated in place), and takes its
  // epoch. False while NATS cannot answer, or if the bucket is refused; call again later. One
  // thread at a time.
  bool bind();
  // Why bind() refused the existing bucket (for the thread that called it); nullopt if it did not.
  const std::optional<std::string>& refusal() const noexcept { return refusal_; }
  bool bound() const noexcept { return bound_.load(std::memory_order_acquire); }
  // The epoch of the stream bound (0 before the first bind). Any thread.
  std::int64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  // Asks NATS whether the stream bound is still the one there; if it is gone or was made again
  // (another creation time), logs one warning and binds again, creating the stream if it is
  // missing (with this node's TTL, replicas and history). One request when nothing changed.
  // The thread that binds (the watcher).
  BucketCheck verify();
  // The epoch of the stream there now, without binding (one request); nullopt if it is gone or
  // NATS did not answer. Any thread (the keeper's, when a rewrite finds its claim gone).
  std::optional<std::int64_t> stream_epoch();

  // Writes `value` under `key` if no live claim has it and this write is the first since the
  // key's last delete (a later one that the server let through is refused here, and the first
  // one's record put back over it); sets `revision` on success. `value` must be unique to this
  // claim (its nonce): if the write's acknowledgement is lost, or the order cannot be read within
  // the request timeout, the key's records are read back for another request timeout, and the
  // record holding `value` is settled like an acknowledged one. unavailable if NATS still cannot
  // tell: a record of ours NATS applied then stays, unowned, until the claim TTL.
  ClaimOutcome create(const std::string& key, const std::string& value, std::uint64_t& revision);
  // Rewrites the claim (restarting its max age) if `revision` is still its latest; updates it.
  ClaimOutcome refresh(const std::string& key, const std::string& value, std::uint64_t& revision);
  // The claim's value and latest revision; conflict if no live claim has the key.
  ClaimOutcome read(const std::string& key, std::string& value, std::uint64_t& revision);
  // The same, and when the claim was last written, by the NATS server's wall clock.
  ClaimOutcome read(const std::string& key, std::string& value, std::uint64_t& revision,
                    std::chrono::system_clock::time_point& written);
  // Deletes the key only if `revision` is still its latest, so a stale holder never deletes a
  // newer session's claim.
  ClaimOutcome remove(const std::string& key, std::uint64_t revision);
  // remove(), and if the key was written since but is still held by the write at `revision`
  // (held_since) the same at its latest revision.
  ClaimOutcome release(const std::string& key, std::uint64_t revision);
  // Whether the write at `revision` still holds the key: it is still stored (not expired) and no
  // delete came after it, so every later write is a race's loser, its put-back of the holder's
  // record (claim_arbiter.h), or a rewrite of the holder's own whose acknowledgement was lost.
  // done (and `latest`: the key's last revision), conflict if not held, unavailable.
  ClaimOutcome held_since(const std::string& key, std::uint64_t revision, std::uint64_t& latest);
  // Whether this node's write at `mine`, made expecting the key's last revision `expected` (0: no
  // record), is the first since the key's last delete or expiry (claim_arbiter.h): done if so;
  // conflict if another came first (whose record is put back over ours); unavailable if NATS
  // could not tell within the request timeout. create() does it; a create sent some other way
  // (the keeper's pipelined re-claims) asks here.
  ClaimOutcome arbitrate(const std::string& key, std::uint64_t expected, std::uint64_t mine);
  int replicas() const noexcept { return replicas_; }
  // Where the stream lives (claims_leader.h), as the last bind() or verify() read it; unknown if
  // NATS did not answer it. The thread that binds.
  const ClusterClaimsLeader& placement() const noexcept { return placement_; }

 private:
  BucketShape wanted() const;
  bool create_bucket();
  bool migrate(jsStreamConfig& config);
  // A write of `value` (or a delete marker) under `key`, guarded by the key's last revision:
  // `expected` (0: no record at all); sets `revision`.
  // `put_back`: a race's loser restoring the holder's record (marked, so its time is not taken
  // for the holder's).
  // `unanswered`, if given, is set when the write timed out (NATS may have applied it).
  ClaimOutcome write(const std::string& key, const std::string* value, std::uint64_t expected,
                     std::uint64_t& revision, bool put_back = false, bool* unanswered = nullptr);
  enum class Settled {
    decided,    // the arbiter has its verdict
    absent,     // the create's revision was unknown and no record of it was found
    undecided,  // NATS did not answer enough by the deadline
  };
  // Feeds `arbiter` the key's records until it has its verdict or `deadline` passes.
  Settled settle(const std::string& key, ClaimArbiter& arbiter, std::chrono::steady_clock::time_point deadline);
  // A decided arbiter's outcome: done if our write came first, else the winner's record is put
  // back over ours and conflict; unavailable if our record was gone.
  ClaimOutcome verdict(const std::string& key, const ClaimArbiter& arbiter);
  // After a create whose outcome is unknown: finds its record by `value` among the key's since
  // `expected` (not by the acknowledged revision, which a server's loss can make wrong) and
  // settles it; sets `revision` if done.
  ClaimOutcome read_back(const std::string& key, const std::string& value, std::uint64_t expected,
                         std::uint64_t& revision);
  // The key's first record at or after `from`, or (from 0) its last; conflict if none.
  ClaimOutcome record(const std::string& key, std::uint64_t from, KeyRecord& found);

  natsConnection* const connection_;  // for the server's address, in placement()
  const std::chrono::milliseconds ttl_;
  const std::chrono::milliseconds request_timeout_;
  const int replicas_;
  std::optional<std::string> refusal_;
  JetStreamHandle js_;
  KvStoreHandle kv_;  // written once, by the first bind(), before bound_
  std::atomic<bool> bound_{false};
  std::atomic<std::int64_t> epoch_{0};  // written by bind(), before bound_
  ClusterClaimsLeader placement_;       // by the thread that binds
};

}  // namespace achat::cluster
