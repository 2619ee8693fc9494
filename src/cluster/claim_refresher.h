// Claim refreshes in bulk: many revision-guarded rewrites in flight at once, and their outcomes.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "claim_book.h"
#include "claims_bucket.h"
#include "nats_handles.h"

namespace achat::cluster {

// Owns a JetStream context of its own, so its acknowledgement handler and in-flight limit never
// touch the ClaimsBucket's synchronous requests. Created and destroyed by the node's thread and
// used by the keeper thread only; cnats calls the acknowledgement handler on that context's
// reply thread, and a mutex guards what the two threads share. A rewrite is what kvStore_Update
// sends: the value, accepted only if the claim's revision is still the latest.
// Promises: every rewrite sent gets exactly one outcome (cnats reports a timeout for one
// unanswered within the request timeout), kept until taken however late it comes; a claim stays
// in flight, and is not sent again, until its outcome has been taken. The destructor drops the
// rewrites still unanswered and returns once no handler is running.
class ClaimRefresher {
 public:
  struct Outcome {
    ClaimBook::Id id;
    std::string key;
    std::uint64_t sent_revision;  // the revision the rewrite was guarded by
    ClaimOutcome outcome;
    std::uint64_t revision;       // the claim's new revision, if done
    std::chrono::steady_clock::time_point sent;  // when the rewrite was handed to cnats
  };

  ClaimRefresher(natsConnection* connection, std::chrono::milliseconds request_timeout);
  ClaimRefresher(const ClaimRefresher&) = delete;
  ClaimRefresher& operator=(const ClaimRefresher&) = delete;
  ~ClaimRefresher();

  // Publishes the claim's rewrite without waiting for its acknowledgement; skips a claim still
  // in flight. False if cnats refused it (disconnected with its buffer full, or the in-flight
  // limit reached for the whole request timeout).
  bool send(ClaimBook::Id id, const ClaimBook::Claim& claim, const std::string& value);
  bool in_flight(ClaimBook::Id id) const;
  // Waits until every rewrite sent has its outcome, at most the request timeout.
  void wait();
  std::vector<Outcome> take_outcomes();

 private:
  struct Sent {
    ClaimBook::Id id;
    std::string key;
    std::uint64_t revision;
    std::chrono::steady_clock::time_point at;
  };

  static void on_ack(jsCtx* js, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* self);
  void record(const natsMsg* message, ClaimOutcome outcome, std::uint64_t revision);

  const std::chrono::milliseconds request_timeout_;
  mutable std::mutex mutex_;
  std::unordered_map<const natsMsg*, Sent> sent_;  // guarded by mutex_: cnats owns the messages
  std::unordered_set<ClaimBook::Id> in_flight_;    // guarded by mutex_: sent, outcome not taken
  std::vector<Outcome> outcomes_;                  // guarded by mutex_
  JetStreamHandle js_;
};

}  // namespace achat::cluster
