#include "directory.h"

namespace achat::cluster {

bool Directory::apply(const DirectoryChange& change, Clock::time_point now) {
  const auto found = entries_.find(change.name);
  if (found != entries_.end() && change.stamp < found->second.stamp) return false;  // stale
  if (change.node.empty() || change.node == self_) {
    if (found != entries_.end()) entries_.erase(found);
    return false;
  }
  entries_.insert_or_assign(change.name, Entry{change.node, change.run, change.typed, change.stamp, now});
  return true;
}

const std::string* Directory::node_of(std::string_view name, Clock::time_point now) {
  const auto found = entries_.find(name);
  if (found == entries_.end()) return nullptr;
  if (now - found->second.refreshed > ttl_) {
    entries_.erase(found);
    return nullptr;
  }
  if (silent_.contains(found->second.node)) return nullptr;
  return &found->second.node;
}

void Directory::online_names(Clock::time_point now, std::vector<std::string_view>& names) const {
  for (const auto& [name, entry] : entries_) {
    if (entry.typed.empty() || now - entry.refreshed > ttl_ || silent_.contains(entry.node)) continue;
    names.push_back(entry.typed);
  }
}

void Directory::apply(const NodePresence& presence) {
  if (presence.reachable) {
    const auto found = silent_.find(presence.node);
    if (found != silent_.end()) silent_.erase(found);
  } else {
    silent_.insert(presence.node);
  }
  if (presence.dead_run.empty()) return;
  std::erase_if(entries_, [&](const auto& entry) {
    return entry.second.node == presence.node && entry.second.run == presence.dead_run;
  });
}

}  // namespace achat::cluster
