// Who won a login's name when several nodes created its claim at once: the stream's order.
//
// On nats-server 2.9.10 (Debian 12) with more than one replica, a create's "no record yet"
// check is a pre-check outside the stream's consensus (nats-server #4320): two nodes creating
// one key at once may both be told they succeeded. Both writes are then in the stream, one
// before the other, in the same order on every replica. The arbiter makes that order the
// answer: of the records of a key since its last delete, the first write wins; every later
// claimant refuses its login. Each claimant reads the key's records from the revision its
// create expected up to its own (from any replica: each holds a prefix of the same log, and a
// replica that has not applied them yet answers "not found", so the claimant asks again), so
// all of them reach the same verdict without talking to each other. The bucket keeps several
// records per key (bucket_shape.h) so that the first write is still there when the others look.
//
// Why not the watch: with one record per key a watch may skip a write that a later one
// replaced, and a watch that restarts replays only each key's last record, so two nodes' watches
// can disagree about which write came first; a read of the stream by revision cannot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace achat::cluster {

// One record of a key in the claims stream.
struct KeyRecord {
  std::uint64_t revision = 0;
  bool deleted = false;  // a delete or purge marker
  std::string value;     // the claim's owner (claim_record.h), for a write
  std::int64_t written_ns = 0;  // when the stream's leader stored it (its wall clock)
  bool put_back = false;        // a loser's copy of the holder's record, not the holder's write
};

// Fed the records of one key in revision order, from just after the revision a create
// expected, until the create's own. A record written a TTL or more after the one before it
// follows an expiry, like one after a delete: nats-server 2.9 does not always remove an expired
// record at once (seen here after a server restart; nats-server #3653), and by the protocol no
// holder goes that long without a write. A plain value; one claim attempt on one thread.
class ClaimArbiter {
 public:
  // `expected`: the revision the create expected to follow (0: none); `mine`: the create's.
  ClaimArbiter(std::uint64_t expected, std::uint64_t mine, std::int64_t ttl_ns)
      : mine_(mine), ttl_ns_(ttl_ns), next_(expected + 1) {}
  // The same when the create's revision is unknown (its acknowledgement was lost): its record
  // is the first write after `expected` that stores `own_value` (which holds the claim's nonce,
  // claim_record.h) and is not a put-back. Until it is seen, feed() takes every record.
  ClaimArbiter(std::uint64_t expected, std::string own_value, std::int64_t ttl_ns)
      : own_value_(std::move(own_value)), ttl_ns_(ttl_ns), next_(expected + 1) {}

  // Takes the next record; false once the claimant's own record (or one after it) was seen:
  // then the verdict is known.
  bool feed(const KeyRecord& record);
  // Where to read next: the first record of the key at or after this revision.
  std::uint64_t next() const noexcept { return next_; }
  // After feed() returned false: true if the claimant's own write is the first since the last
  // delete, or the first is an earlier write of the same claim (the same value: each claim's
  // value is its own, claim_record.h).
  bool won() const noexcept { return reached_ && (!first_.has_value() || first_->value == mine_value_); }
  // Whether the claimant's own record was found (not one after it: then it is gone and the
  // verdict unknown).
  bool reached() const noexcept { return reached_; }
  // The winning write, if it is another's.
  const std::optional<KeyRecord>& winner() const noexcept { return first_; }
  // The create's revision: given, or found by its value; 0 while unknown.
  std::uint64_t mine() const noexcept { return mine_; }

 private:
  std::uint64_t mine_ = 0;
  std::string own_value_;  // when mine_ is to be found
  std::int64_t ttl_ns_;
  std::uint64_t next_;
  std::int64_t last_written_ns_ = 0;  // of the holder's last own write (or of the last record)
  bool reached_ = false;
  std::string mine_value_;  // the value of the record at mine_, once reached
  std::optional<KeyRecord> first_;  // the first write since the last delete before mine
};

}  // namespace achat::cluster
