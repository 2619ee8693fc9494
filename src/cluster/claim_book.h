// The claims this node holds, and the ones its broker has given back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "achat/events.h"

namespace achat::cluster {

// Shared by reader threads (hold, once per login), whichever thread destroys a Lease (release,
// once per logout: the broker's, usually) and the keeper thread (everything else). A mutex
// guards the map; it is never held across a call to NATS, so no caller waits on the network.
// The fence thread reads each claim's confirmation time (see lapsed()).
// Promises: a claim's revision is updated only by the keeper, which also performs its release,
// so the guarded delete always carries the claim's latest revision known to this node. Each
// revision is kept with the epoch of the claims stream it was written to (ClaimsBucket::epoch):
// a revision of a stream since deleted guards nothing in the next one (whose revisions restart
// at 1), and the keeper never sends it there. A
// claim's confirmation time only moves forward, and only to the send time of a write NATS
// acknowledged (the create or a refresh): NATS applied that write after it was sent, so the key
// lives at least a TTL from then, by the NATS server's clock.
class ClaimBook {
 public:
  using Id = std::uint64_t;
  using Clock = std::chrono::steady_clock;
  struct Claim {
    std::string key;
    std::uint64_t revision = 0;
    std::int64_t epoch = 0;  // of the stream `revision` is in
    std::string value{};  // as stored (ClaimValue, with this claim's nonce): every write of it
  };
  // A held claim whose confirmation is too old: its session must end.
  struct Lapsed {
    std::string key;
    ClaimStamp lease_stamp;  // the claim's creation, as its Lease reports it
  };

  // `sent`: when the create that NATS acknowledged was sent.
  Id hold(Claim claim, Clock::time_point sent);
  void release(Id id);
  // Stops the keeper's waits; every claim still held is then the keeper's to release.
  void stop();
  // The watcher bound the claims stream again (it was deleted or made again): wakes the keeper,
  // which claims every held login again in the new stream at once. Any thread.
  void rebound();

  // Keeper thread: waits until a claim is released, `until` passes or stop(), and returns the
  // released claims, which leave the book.
  std::vector<std::pair<Id, Claim>> wait_for_releases(std::chrono::steady_clock::time_point until);
  bool stopping() const;
  // Whether rebound() was called since the last call (which clears it).
  bool take_rebound();
  std::vector<std::pair<Id, Claim>> held() const;  // not yet released
  bool holds(Id id) const;                         // released too, until returned above
  void revise(Id id, std::uint64_t revision, std::int64_t epoch);
  // A write of this claim sent at `sent` was acknowledged: it is confirmed until sent + TTL.
  void confirm(Id id, Clock::time_point sent);
  // A rewrite guarded by `from` (in `epoch`) succeeded: the claim takes `to` only if `from` is
  // still its revision in that epoch, so an outcome never overwrites a newer one.
  void advance(Id id, std::int64_t epoch, std::uint64_t from, std::uint64_t to);
  // The claim is held by someone else now: it is no longer refreshed or deleted, and lapsed()
  // reports it at once so its session ends.
  void lose(Id id);
  std::vector<std::pair<Id, Claim>> take_all();

  // Fence thread: the claims held (not released) whose last confirmation is older than `now -
  // window`, each reported once; and the earliest time another one can lapse (a claim held
  // later lapses no earlier than now + window, so `now + window` if none is held).
  std::vector<Lapsed> lapsed(Clock::time_point now, Clock::duration window, Clock::time_point& next);
  // When the first held claim not yet lapsed will lapse, and how many claims are held; nullopt
  // if none. Any thread (the keeper's warning).
  std::optional<Clock::time_point> first_lapse(Clock::duration window, std::size_t& held) const;

 private:
  struct Entry {
    Claim claim;
    ClaimStamp lease_stamp;
    Clock::time_point confirmed;
    bool released = false;
    bool lost = false;    // held by someone else now: nothing to refresh or delete
    bool lapsed = false;  // reported by lapsed()
  };

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::unordered_map<Id, Entry> entries_;  // guarded by mutex_
  std::size_t released_ = 0;               // guarded by mutex_
  Id next_id_ = 1;                         // guarded by mutex_
  bool stopping_ = false;                  // guarded by mutex_
  bool rebound_ = false;                   // guarded by mutex_
};

// A login's claim, as the broker holds it: destroying it hands the claim to the keeper for a
// guarded delete. Must not outlive the ClaimBook (the ClusterNode).
class Lease final : public LoginLease {
 public:
  Lease(ClaimBook& book, ClaimBook::Id id, ClaimStamp stamp) : book_(book), id_(id), stamp_(stamp) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() override { book_.release(id_); }

  ClaimStamp stamp() const noexcept override { return stamp_; }

 private:
  ClaimBook& book_;
  const ClaimBook::Id id_;
  const ClaimStamp stamp_;  // of the claim's creation; refreshes and re-claims do not change it
};

}  // namespace achat::cluster
