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
  if (!publisher_.send_bulk(pending_)) {
    spdlog::error("cluster: {} lines for other nodes dropped: out of memory", pending_.size());
  }
  pending_.clear();
}

bool Routes::apply(const DirectoryChange& change) {
  return directory_.apply(change, Directory::Clock::now());
}

}  // namespace achat::cluster
