#include "publisher.h"

#include <array>
#include <spdlog/spdlog.h>

#include "envelope.h"

namespace achat::cluster {

namespace {

constexpr std::size_t kBatch = 64;

}  // namespace

void Publisher::operator()() {
  std::array<Forward, kBatch> batch;
  while (const std::size_t n = forwards_.receive(batch)) {
    for (std::size_t i = 0; i < n; ++i) {
      publish(batch[i]);
      batch[i] = Forward{};
    }
  }
}

void Publisher::publish(const Forward& forward) {
  auto [found, inserted] = destinations_.try_emplace(forward.node);
  Destination& destination = found->second;
  if (inserted) destination.subject = node_subject(forward.node);
  const std::string payload =
      Envelope{origin_, incarnation_, destination.next_sequence++, forward.recipients, *forward.delivery}.encode();
  const natsStatus status = natsConnection_Publish(connection_, destination.subject.c_str(), payload.data(),
                                                   static_cast<int>(payload.size()));
  if (status == NATS_OK) {
    ClusterStats::add(stats_.forwarded);
    failing_ = false;
    return;
  }
  ClusterStats::add(stats_.forward_failed);
  if (!failing_) {
    spdlog::warn("cluster: lines for node {} dropped: {}", forward.node, last_nats_error(status));
    failing_ = true;
  }
}

}  // namespace achat::cluster
