// Claim refreshes and releases in bulk: many revision-guarded rewrites and deletes in flight at
// once, and their outcomes.
#pragma once

#include <chrono>
#include <condition_variable>
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
// sends: the value, accepted only if the claim's revision is still the latest; a delete is the
// KV delete marker under the same guard, so a stale holder never deletes a newer claim; a
// create is accepted only if the key has no message at all.
// Promises: every rewrite or delete sent gets exactly one outcome (cnats reports a timeout for
// one unanswered within the request timeout), kept until taken however late it comes; a claim
// stays in flight, and is not sent again, until its outcome has been taken. The destructor drops
// the writes still unanswered and returns once no handler is running.
// What a write sent through the ClaimRefresher does.
enum class ClaimWrite { rewrite, create, remove };

class ClaimRefresher {
 public:
  struct Outcome {
    ClaimBook::Id id;
    std::string key;
    std::uint64_t sent_revision;  // the revision the rewrite was guarded by
    std::int64_t epoch;           // of the stream that revision is in (a create's: the stream it was sent to)
    ClaimOutcome outcome;
    std::uint64_t revision;       // the claim's new revision, if done
    std::chrono::steady_clock::time_point sent;  // when the rewrite was handed to cnats
    ClaimWrite write = ClaimWrite::rewrite;  // which call sent it
    std::string value;                       // what it wrote (empty for a delete)
  };

  ClaimRefresher(natsConnection* connection, std::chrono::milliseconds request_timeout);
  ClaimRefresher(const ClaimRefresher&) = delete;
  ClaimRefresher& operator=(const ClaimRefresher&) = delete;
  ~ClaimRefresher();

  // Publishes the claim's rewrite without waiting for its acknowledgement; skips a claim still
  // in flight. False if cnats refused it (disconnected with its buffer full, or the in-flight
  // limit reached for the whole request timeout).
  bool send(ClaimBook::Id id, const ClaimBook::Claim& claim, const std::string& value);
  // The same for the claim's guarded delete (its release).
  bool send_delete(ClaimBook::Id id, const ClaimBook::Claim& claim);
  // The same for a create of `key` (done only if no message has it, as kvStore_Create's first
  // try): taking an expired claim again, or one whose stream was deleted, into the stream of
  // `epoch`.
  bool send_create(ClaimBook::Id id, const std::string& key, const std::string& value, std::int64_t epoch);
  bool in_flight(ClaimBook::Id id) const;
  // Waits until every write sent has its outcome, at most the request timeout.
  void wait();
  // The same, until `deadline` at the latest.
  void wait_until(std::chrono::steady_clock::time_point deadline);
  // Waits until fewer than the in-flight limit are unanswered (so the next send does not stall
  // in cnats) or `deadline` passes; false if it passed.
  bool wait_for_room(std::chrono::steady_clock::time_point deadline);
  std::vector<Outcome> take_outcomes();

 private:
  struct Sent {
    ClaimBook::Id id;
    std::string key;
    std::uint64_t revision;
    std::int64_t epoch;
    std::chrono::steady_clock::time_point at;
    ClaimWrite write;
    std::string value;
  };

  bool publish(ClaimBook::Id id, const ClaimBook::Claim& claim, const std::string& value, ClaimWrite write);

  static void on_ack(jsCtx* js, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* self);
  void record(const natsMsg* message, ClaimOutcome outcome, std::uint64_t revision);

  const std::chrono::milliseconds request_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable answered_;               // an outcome was recorded
  std::unordered_map<const natsMsg*, Sent> sent_;  // guarded by mutex_: cnats owns the messages
  std::unordered_set<ClaimBook::Id> in_flight_;    // guarded by mutex_: sent, outcome not taken
  std::vector<Outcome> outcomes_;                  // guarded by mutex_
  JetStreamHandle js_;
};

}  // namespace achat::cluster
