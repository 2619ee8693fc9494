// Cross-node publications lost, per peer node, as this node sees them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "achat/cluster.h"

namespace achat::cluster {

// Written by the subscriber thread (publications from a node lost on the way: gaps in its
// sequence) and the publisher thread (publications for a node dropped here before NATS had
// them: disconnected, refused or too old); read by any thread (/metrics). A mutex guards the
// map; it is taken only when something is lost, never per publication delivered.
class PeerLosses {
 public:
  void missing_from(std::string_view node, std::uint64_t publications);
  void dropped_for(std::string_view node, std::uint64_t publications);
  std::vector<ClusterPeerLosses> snapshot() const;  // by node id

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, ClusterPeerLosses> peers_;  // guarded by mutex_
};

}  // namespace achat::cluster
