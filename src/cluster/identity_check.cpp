#include "identity_check.h"

#include <stdexcept>

#include "presence.h"

namespace achat::cluster {

std::optional<std::string> live_twin(natsConnection* connection, const ClaimOwner& self,
                                     std::chrono::milliseconds window) {
  const std::string subject = presence_subject(self.node);
  natsSubscription* raw = nullptr;
  natsStatus status = natsConnection_SubscribeSync(&raw, connection, subject.c_str());
  if (status != NATS_OK) {
    throw std::runtime_error("cluster: subscribe to " + subject + ": " + last_nats_error(status));
  }
  const NatsSubscriptionHandle subscription(raw);
  // The window counts once the server has the subscription.
  natsConnection_FlushTimeout(connection, window.count());
  const auto deadline = std::chrono::steady_clock::now() + window;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    natsMsg* received = nullptr;
    status = natsSubscription_NextMsg(&received, subscription.get(), left.count());
    if (status != NATS_OK) {
      if (status == NATS_TIMEOUT) return std::nullopt;
      continue;  // a slow-consumer notice: the next beat will do
    }
    const NatsMsgHandle message(received);
    const auto beat = parse_beat(std::string_view(natsMsg_GetData(message.get()),
                                                  static_cast<std::size_t>(natsMsg_GetDataLength(message.get()))));
    if (!beat || beat->first.node != self.node || beat->first.incarnation == self.incarnation) continue;
    return "node id " + self.node + " is in use by another live process (run " + beat->first.incarnation +
           " beats on " + subject + "): give each node its own --node-id; a restart after a crash "
           "is not refused, as a dead run stops beating";
  }
}

}  // namespace achat::cluster
