#include "subscriber.h"

#include <spdlog/spdlog.h>

#include "envelope.h"

namespace achat::cluster {

namespace {

constexpr std::int64_t kPollMs = 200;
constexpr std::size_t kBatch = 64;

}  // namespace

void Subscriber::operator()() {
  while (!stop_.stopped()) {
    natsMsg* raw = nullptr;
    const natsStatus status = natsSubscription_NextMsg(&raw, subscription_, kPollMs);
    if (status == NATS_OK) {
      // Everything already waiting goes to the broker with one wake-up.
      do {
        NatsMsgHandle message(raw);
        handle(message.get());
        raw = nullptr;
      } while (batch_.size() < kBatch && natsSubscription_NextMsg(&raw, subscription_, 0) == NATS_OK);
      inbox_.send_bulk(batch_);
      batch_.clear();
    } else if (status == NATS_SLOW_CONSUMER) {
      ClusterStats::add(stats_.slow_consumer);
      spdlog::warn("cluster: this node fell behind; NATS dropped lines for its users");
    } else if (status != NATS_TIMEOUT) {
      spdlog::error("cluster: subscription ended: {}", last_nats_error(status));
      return;
    }
  }
}

void Subscriber::handle(natsMsg* message) {
  const std::string_view payload(natsMsg_GetData(message),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(message)));
  const auto envelope = Envelope::decode(payload);
  if (!envelope) {
    ClusterStats::add(stats_.malformed);
    return;
  }
  const auto check = sequences_.check(envelope->origin, envelope->incarnation, envelope->sequence);
  switch (check.verdict) {
    case SequenceCheck::Verdict::repeated:
      ClusterStats::add(stats_.repeated);
      return;
    case SequenceCheck::Verdict::after_gap:
      ClusterStats::add(stats_.gaps);
      ClusterStats::add(stats_.missing, check.missing);
      stats_.per_peer.missing_from(envelope->origin, check.missing);
      spdlog::warn("cluster: {} publications (one or more lines each) from node {} were lost on "
                   "the way (sequence {})",
                   check.missing, envelope->origin, envelope->sequence);
      break;
    case SequenceCheck::Verdict::first:
      spdlog::info("cluster: receiving from node {} (run {})", envelope->origin, envelope->incarnation);
      break;
    case SequenceCheck::Verdict::next:
      break;
  }
  ClusterStats::add(stats_.received);
  for (const Envelope::Entry& entry : envelope->entries) {
    batch_.emplace_back(RemoteDelivery{std::string(entry.recipients),
                                      std::make_shared<const std::string>(entry.line)});
  }
}

}  // namespace achat::cluster
