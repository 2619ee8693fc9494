// Where each login online on another node is, as the claims watch reports it: keyed by the
// logins' uniqueness keys (LoginName::unique), as the claims are.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "achat/events.h"

namespace achat::cluster {

// Owned and used by the broker thread alone. An entry lives while its claim does: set by a
// put (a claim or one of its refreshes), erased by a delete. A claim that expires (its node
// crashed) produces no watch event on NATS 2.9, so an entry not refreshed within the claim TTL
// is treated as gone, the same moment the bucket lets another node take the login.
// A node the heartbeats say is silent keeps its entries (their claims live on), but node_of()
// hides them until it is heard again; a run of a node known dead loses its entries at once.
// Changes are ordered by their (epoch, revision) stamps, never by revision alone: a change older
// than the entry it would replace is ignored, and one from a claims stream made again after a
// delete (a later epoch, its revisions restarting at 1) replaces what the old stream said.
class Directory {
 public:
  using Clock = std::chrono::steady_clock;

  Directory(std::string self, std::chrono::milliseconds ttl) : self_(std::move(self)), ttl_(ttl) {}

  // True if the change is a claim by another node (and not older than what is known of it).
  bool apply(const DirectoryChange& change, Clock::time_point now);
  // The other node that has `name` online, or nullptr (this node's own logins are the
  // broker's to route).
  const std::string* node_of(std::string_view name, Clock::time_point now);
  void apply(const NodePresence& presence);
  std::size_t size() const noexcept { return entries_.size(); }
  // Appends the logins (as typed) online on other nodes now, as node_of() would find them; a
  // claim that does not say how its login was typed is left out. The views are valid until the
  // next change.
  void online_names(Clock::time_point now, std::vector<std::string_view>& names) const;

 private:
  struct Entry {
    std::string node;
    std::string run;
    std::string typed;
    ClaimStamp stamp;
    Clock::time_point refreshed;
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };

  const std::string self_;
  const std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> entries_;
  std::unordered_set<std::string, NameHash, std::equal_to<>> silent_;  // nodes not heard from lately
};

}  // namespace achat::cluster
