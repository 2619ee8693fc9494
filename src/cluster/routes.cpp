#include "routes.h"

#include <spdlog/spdlog.h>

namespace achat::cluster {

bool Routes::forward(std::string_view address, std::string_view unique, std::uint64_t message,
                     const OutboundLine& delivery) {
  const auto now = Directory::Clock::now();
  const std::string* node = directory_.node_of(unique, now);
  if (!node) return false;
  // This message's Forwards are the last ones queued: at most one per node.
  for (auto it = pending_.rbegin(); it != pending_.rend() && it->message == message; ++it) {
    if (it->node == *node) {
      it->recipients.append(",").append(address);
      return true;
    }
  }
  pending_.push_back(Forward{*node, std::string(address), delivery, message, now});
  return true;
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
