#include "directory.h"

namespace achat::cluster {

bool Directory::apply(const DirectoryChange& change, Clock::time_point now) {
  if (change.node.empty() || change.node == self_) {
    entries_.erase(change.name);
    return false;
  }
  entries_.insert_or_assign(change.name, Entry{change.node, now});
  return true;
}

const std::string* Directory::node_of(std::string_view name, Clock::time_point now) {
  const auto found = entries_.find(name);
  if (found == entries_.end()) return nullptr;
  if (now - found->second.refreshed > ttl_) {
    entries_.erase(found);
    return nullptr;
  }
  return &found->second.node;
}

}  // namespace achat::cluster
