#include "claim_book.h"

#include <algorithm>
#include <utility>

namespace achat::cluster {

ClaimBook::Id ClaimBook::hold(Claim claim, Clock::time_point sent) {
  std::lock_guard lock(mutex_);
  const Id id = next_id_++;
  const ClaimStamp stamp{claim.epoch, claim.revision};
  entries_.emplace(id, Entry{std::move(claim), stamp, sent});
  return id;
}

void ClaimBook::release(Id id) {
  {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(id);
    if (found == entries_.end() || found->second.released) return;
    if (found->second.lost) {  // not ours to delete
      entries_.erase(found);
      return;
    }
    found->second.released = true;
    ++released_;
  }
  wake_.notify_one();
}

void ClaimBook::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
}

void ClaimBook::rebound() {
  {
    std::lock_guard lock(mutex_);
    rebound_ = true;
  }
  wake_.notify_one();
}

bool ClaimBook::take_rebound() {
  std::lock_guard lock(mutex_);
  return std::exchange(rebound_, false);
}

std::vector<std::pair<ClaimBook::Id, ClaimBook::Claim>> ClaimBook::wait_for_releases(
    std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, until, [this] { return released_ > 0 || stopping_ || rebound_; });
  std::vector<std::pair<Id, Claim>> released;
  released.reserve(released_);
  for (auto it = entries_.begin(); released_ > 0 && it != entries_.end();) {
    if (it->second.released) {
      released.emplace_back(it->first, std::move(it->second.claim));
      it = entries_.erase(it);
      --released_;
    } else {
      ++it;
    }
  }
  return released;
}

bool ClaimBook::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

std::vector<std::pair<ClaimBook::Id, ClaimBook::Claim>> ClaimBook::held() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<Id, Claim>> held;
  held.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) {
    if (!entry.released && !entry.lost) held.emplace_back(id, entry.claim);
  }
  return held;
}

bool ClaimBook::holds(Id id) const {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(id);
  return found != entries_.end() && !found->second.lost;
}

void ClaimBook::revise(Id id, std::uint64_t revision, std::int64_t epoch) {
  std::lock_guard lock(mutex_);
  if (const auto found = entries_.find(id); found != entries_.end()) {
    found->second.claim.revision = revision;
    found->second.claim.epoch = epoch;
  }
}

void ClaimBook::advance(Id id, std::int64_t epoch, std::uint64_t from, std::uint64_t to) {
  std::lock_guard lock(mutex_);
  if (const auto found = entries_.find(id); found != entries_.end() && found->second.claim.revision == from &&
                                              found->second.claim.epoch == epoch) {
    found->second.claim.revision = to;
  }
}

void ClaimBook::confirm(Id id, Clock::time_point sent) {
  std::lock_guard lock(mutex_);
  if (const auto found = entries_.find(id); found != entries_.end() && found->second.confirmed < sent) {
    found->second.confirmed = sent;
  }
}

void ClaimBook::lose(Id id) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(id);
  if (found == entries_.end()) return;
  if (found->second.released) {  // released meanwhile: nothing left to end or delete
    --released_;
    entries_.erase(found);
    return;
  }
  found->second.lost = true;
  found->second.confirmed = Clock::time_point::min();
}

std::vector<ClaimBook::Lapsed> ClaimBook::lapsed(Clock::time_point now, Clock::duration window,
                                                 Clock::time_point& next) {
  std::lock_guard lock(mutex_);
  std::vector<Lapsed> lapsed;
  next = now + window;
  for (auto& [id, entry] : entries_) {
    if (entry.released || entry.lapsed) continue;
    if (entry.confirmed <= now - window) {
      entry.lapsed = true;
      lapsed.push_back(Lapsed{entry.claim.key, entry.lease_stamp});
    } else {
      next = std::min(next, entry.confirmed + window);
    }
  }
  return lapsed;
}

std::optional<ClaimBook::Clock::time_point> ClaimBook::first_lapse(Clock::duration window,
                                                                   std::size_t& held) const {
  std::lock_guard lock(mutex_);
  std::optional<Clock::time_point> first;
  held = 0;
  for (const auto& [id, entry] : entries_) {
    if (entry.released || entry.lapsed || entry.lost) continue;
    ++held;
    if (!first || entry.confirmed + window < *first) first = entry.confirmed + window;
  }
  return first;
}

std::vector<std::pair<ClaimBook::Id, ClaimBook::Claim>> ClaimBook::take_all() {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<Id, Claim>> all;
  all.reserve(entries_.size());
  for (auto& [id, entry] : entries_) {
    if (!entry.lost) all.emplace_back(id, std::move(entry.claim));
  }
  entries_.clear();
  released_ = 0;
  return all;
}

}  // namespace achat::cluster
