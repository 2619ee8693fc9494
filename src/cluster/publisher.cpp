#include "publisher.h"

#include <algorithm>
#include <array>
#include <spdlog/spdlog.h>

#include "envelope.h"

namespace achat::cluster {

void Publisher::operator()() {
  std::array<Forward, kBatch> batch;
  while (const std::size_t n = forwards_.receive(batch)) {
    // The server's limit, read once per batch (0 while never connected: only kPublicationBytes).
    max_bytes_ = static_cast<std::size_t>(std::max<std::int64_t>(natsConnection_GetMaxPayload(connection_), 0));
    std::int64_t handled = 0;
    for (std::size_t i = 0; i < n; ++i) {
      add(batch[i]);
      handled += batch[i].cost;
      batch[i] = Forward{};
    }
    for (auto& [node, destination] : destinations_) {
      if (!destination.payload.empty()) publish(node, destination);
    }
    window_.give_back(handled);
  }
}

void Publisher::add(const Forward& forward) {
  auto [found, inserted] = destinations_.try_emplace(forward.node);
  Destination& destination = found->second;
  if (inserted) destination.subject = node_subject(forward.node);
  // Each Forward fits in one publication on its own (Routes checked); together they may not.
  if (!destination.payload.empty() && max_bytes_ != 0 &&
      destination.payload.size() + forward.recipients.size() + 1 + forward.delivery->size() > max_bytes_) {
    publish(forward.node, destination);
  }
  if (destination.payload.empty()) {
    Envelope::append_header(destination.payload, origin_, incarnation_, destination.next_sequence++);
    destination.oldest = forward.routed;
  }
  Envelope::append_entry(destination.payload, forward.recipients, *forward.delivery);
  if (destination.payload.size() >= kPublicationBytes) publish(forward.node, destination);
}

void Publisher::publish(const std::string& node, Destination& destination) {
  if (std::chrono::steady_clock::now() - destination.oldest > max_age_) {
    destination.payload.clear();
    ClusterStats::add(stats_.forward_expired);
    fail(node, "older than the claim TTL");
    return;
  }
  // While cnats reconnects it would hold the publication and send it once connected, however
  // late that is.
  if (natsConnection_Status(connection_) != NATS_CONN_STATUS_CONNECTED) {
    destination.payload.clear();
    ClusterStats::add(stats_.forward_failed);
    fail(node, "not connected to NATS");
    return;
  }
  const natsStatus status =
      natsConnection_Publish(connection_, destination.subject.c_str(), destination.payload.data(),
                             static_cast<int>(destination.payload.size()));
  destination.payload.clear();
  if (status == NATS_OK) {
    ClusterStats::add(stats_.forwarded);
    failing_ = false;
    return;
  }
  ClusterStats::add(stats_.forward_failed);
  fail(node, last_nats_error(status));
}

void Publisher::fail(const std::string& node, const std::string& why) {
  stats_.per_peer.dropped_for(node, 1);
  if (!failing_) {
    spdlog::warn("cluster: lines for node {} dropped: {}", node, why);
    failing_ = true;
  }
}

}  // namespace achat::cluster
