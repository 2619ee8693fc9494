// The claims this node holds, and the ones its broker has given back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "achat/events.h"

namespace achat::cluster {

// Shared by reader threads (hold, once per login), whichever thread destroys a Lease (release,
// once per logout: the broker's, usually) and the keeper thread (everything else). A mutex
// guards the map; it is never held across a call to NATS, so no caller waits on the network.
// Promises: a claim's revision is updated only by the keeper, which also performs its release,
// so the guarded delete always carries the claim's latest revision known to this node.
class ClaimBook {
 public:
  using Id = std::uint64_t;
  struct Claim {
    std::string key;
    std::uint64_t revision = 0;
  };

  Id hold(Claim claim);
  void release(Id id);
  // Stops the keeper's waits; every claim still held is then the keeper's to release.
  void stop();

  // Keeper thread: waits until a claim is released, `until` passes or stop(), and returns the
  // released claims, which leave the book.
  std::vector<std::pair<Id, Claim>> wait_for_releases(std::chrono::steady_clock::time_point until);
  bool stopping() const;
  std::vector<std::pair<Id, Claim>> held() const;  // not yet released
  bool holds(Id id) const;                         // released too, until returned above
  void revise(Id id, std::uint64_t revision);
  // A rewrite guarded by `from` succeeded: the claim takes `to` only if `from` is still its
  // revision, so an outcome never overwrites a newer one.
  void advance(Id id, std::uint64_t from, std::uint64_t to);
  void forget(Id id);
  std::vector<std::pair<Id, Claim>> take_all();

 private:
  struct Entry {
    Claim claim;
    bool released = false;
  };

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::unordered_map<Id, Entry> entries_;  // guarded by mutex_
  std::size_t released_ = 0;               // guarded by mutex_
  Id next_id_ = 1;                         // guarded by mutex_
  bool stopping_ = false;                  // guarded by mutex_
};

// A login's claim, as the broker holds it: destroying it hands the claim to the keeper for a
// guarded delete. Must not outlive the ClaimBook (the ClusterNode).
class Lease final : public LoginLease {
 public:
  Lease(ClaimBook& book, ClaimBook::Id id, std::uint64_t revision)
      : book_(book), id_(id), revision_(revision) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() override { book_.release(id_); }

  std::uint64_t revision() const noexcept override { return revision_; }

 private:
  ClaimBook& book_;
  const ClaimBook::Id id_;
  const std::uint64_t revision_;  // of the claim's creation; refreshes do not change it
};

}  // namespace achat::cluster
