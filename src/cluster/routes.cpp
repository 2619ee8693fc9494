#include "routes.h"

#include <spdlog/spdlog.h>

namespace achat::cluster {

ClusterRoutes::Forwarding Routes::forward(std::string_view address, std::string_view unique,
                                          std::uint64_t message, const OutboundLine& delivery) {
  const auto now = Directory::Clock::now();
  const std::string* node = directory_.node_of(unique, now);
  if (!node) return Forwarding::not_held;
  const std::size_t limit = limit_.bytes();
  if (!fits_one_publication(address.size(), delivery->size(), limit)) {
    ClusterStats::add(stats_.forward_too_long);
    return Forwarding::too_long;
  }
  // This message's Forwards are the last ones queued: one per node while its recipients fit.
  for (auto it = pending_.rbegin(); it != pending_.rend() && it->message == message; ++it) {
    if (it->node == *node &&
        fits_one_publication(it->recipients.size() + 1 + address.size(), delivery->size(), limit)) {
      it->recipients.append(",").append(address);
      return Forwarding::queued;
    }
  }
  pending_.push_back(Forward{*node, std::string(address), delivery, message, now});
  return Forwarding::queued;
}

void Routes::flush() {
  if (pending_.empty()) return;
  // Those that fit keep their order; the rest are dropped, never queued.
  std::size_t kept = 0;
  std::int64_t taken = 0;
  for (Forward& forward : pending_) {
    forward.cost = forward.weight();
    if (!to_publisher_.try_take(forward.cost)) {
      ClusterStats::add(stats_.forward_overflow);
      stats_.per_peer.dropped_for(forward.node, 1);
      if (!overflowing_) {
        spdlog::warn("cluster: lines for other nodes dropped: more than {} bytes wait for NATS",
                     to_publisher_.limit());
        overflowing_ = true;
      }
      continue;
    }
    taken += forward.cost;
    if (&pending_[kept] != &forward) pending_[kept] = std::move(forward);
    ++kept;
  }
  if (kept == pending_.size()) overflowing_ = false;
  pending_.resize(kept);
  if (!pending_.empty() && !publisher_.send_bulk(pending_)) {
    to_publisher_.give_back(taken);
    spdlog::error("cluster: {} lines for other nodes dropped: out of memory", pending_.size());
  }
  pending_.clear();
}

bool Routes::apply(const DirectoryChange& change) {
  return directory_.apply(change, Directory::Clock::now());
}

}  // namespace achat::cluster
