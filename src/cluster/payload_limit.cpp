#include "payload_limit.h"

#include <spdlog/spdlog.h>

namespace achat::cluster {

void PayloadLimit::update(natsConnection* connection) {
  const std::int64_t reported = natsConnection_GetMaxPayload(connection);
  if (reported <= 0) return;
  const auto bytes = static_cast<std::size_t>(reported);
  if (bytes_.exchange(bytes, std::memory_order_relaxed) != bytes) {
    spdlog::info("cluster: NATS accepts publications of up to {} bytes; a line to another node "
                 "that cannot fit in one is answered `error: line too long for the cluster`",
                 bytes);
  }
}

}  // namespace achat::cluster
