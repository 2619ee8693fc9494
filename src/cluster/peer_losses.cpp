#include "peer_losses.h"

#include <algorithm>

namespace achat::cluster {

void PeerLosses::missing_from(std::string_view node, std::uint64_t publications) {
  std::lock_guard lock(mutex_);
  auto [found, inserted] = peers_.try_emplace(std::string(node));
  if (inserted) found->second.node = found->first;
  found->second.missing_from += publications;
}

void PeerLosses::dropped_for(std::string_view node, std::uint64_t publications) {
  std::lock_guard lock(mutex_);
  auto [found, inserted] = peers_.try_emplace(std::string(node));
  if (inserted) found->second.node = found->first;
  found->second.dropped_for += publications;
}

std::vector<ClusterPeerLosses> PeerLosses::snapshot() const {
  std::vector<ClusterPeerLosses> peers;
  {
    std::lock_guard lock(mutex_);
    peers.reserve(peers_.size());
    for (const auto& [node, losses] : peers_) peers.push_back(losses);
  }
  std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
  return peers;
}

}  // namespace achat::cluster
