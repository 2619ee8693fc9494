#include "node_roster.h"

#include <algorithm>
#include <utility>

namespace achat::cluster {

namespace {

// Dead runs remembered per node: enough for restarts in quick succession; a claim of an older
// one has expired long before (each restart takes longer than a beat).
constexpr std::size_t kRetiredRuns = 8;
// A node is silent after this many of its beat intervals without a beat, at least.
constexpr int kMissedBeats = 3;

bool contains(const std::vector<std::string>& runs, std::string_view run) {
  return std::find(runs.begin(), runs.end(), run) != runs.end();
}

}  // namespace

std::optional<NodeRoster::Change> NodeRoster::beat(const ClaimOwner& owner, Clock::duration interval,
                                                   Clock::time_point now) {
  if (owner.node == self_) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto [found, inserted] = peers_.try_emplace(owner.node);
  Peer& peer = found->second;
  if (contains(peer.retired, owner.incarnation)) {
    if (contains(peer.duplicates_reported, owner.incarnation)) return std::nullopt;
    peer.duplicates_reported.push_back(owner.incarnation);
    return Change{Change::Kind::duplicate, owner.node, owner.incarnation, peer.run};
  }
  peer.window = std::max(silent_after_, kMissedBeats * interval);
  peer.last_beat = now;
  const bool was_silent = std::exchange(peer.silent, false);
  if (peer.run == owner.incarnation) {
    if (!was_silent) return std::nullopt;
    return Change{Change::Kind::returned, owner.node, owner.incarnation, {}};
  }
  std::string previous = std::exchange(peer.run, owner.incarnation);
  if (inserted || previous.empty()) return Change{Change::Kind::joined, owner.node, owner.incarnation, {}};
  peer.retired.push_back(previous);
  if (peer.retired.size() > kRetiredRuns) peer.retired.erase(peer.retired.begin());
  newly_retired_.push_back(ClaimOwner{owner.node, previous});
  return Change{Change::Kind::restarted, owner.node, owner.incarnation, std::move(previous)};
}

std::vector<NodeRoster::Change> NodeRoster::sweep(Clock::time_point now, Clock::time_point& next) {
  std::vector<Change> changes;
  std::lock_guard lock(mutex_);
  next = now + silent_after_;
  for (auto& [node, peer] : peers_) {
    if (peer.silent) continue;
    const auto due = peer.last_beat + peer.window;
    if (now < due) {
      next = std::min(next, due);
      continue;
    }
    peer.silent = true;
    changes.push_back(Change{Change::Kind::silent, node, peer.run, {}, now - peer.last_beat});
  }
  return changes;
}

void NodeRoster::expect(std::string_view node, Clock::time_point now) {
  if (node == self_) return;
  std::lock_guard lock(mutex_);
  auto [found, inserted] = peers_.try_emplace(std::string(node));
  if (!inserted) return;
  found->second.last_beat = now;
  found->second.window = silent_after_;
}

std::vector<ClaimOwner> NodeRoster::take_retired() {
  std::lock_guard lock(mutex_);
  return std::exchange(newly_retired_, {});
}

bool NodeRoster::retired(const ClaimOwner& owner) const {
  std::lock_guard lock(mutex_);
  const auto found = peers_.find(owner.node);
  return found != peers_.end() && contains(found->second.retired, owner.incarnation);
}

std::optional<NodeRoster::Clock::duration> NodeRoster::silence(std::string_view node,
                                                               Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  const auto found = peers_.find(std::string(node));
  if (found == peers_.end() || !found->second.silent) return std::nullopt;
  return now - found->second.last_beat;
}

std::size_t NodeRoster::live() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(peers_.begin(), peers_.end(), [](const auto& peer) { return !peer.second.silent; }));
}

}  // namespace achat::cluster
