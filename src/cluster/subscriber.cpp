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
      bool going = true;
      do {
        NatsMsgHandle message(raw);
        going = handle(message.get());
        raw = nullptr;
      } while (going && batch_.size() < kBatch && natsSubscription_NextMsg(&raw, subscription_, 0) == NATS_OK);
      hand_over();
    } else if (status == NATS_SLOW_CONSUMER) {
      // Counted by the connection's error handler (node.cpp), with the publications dropped.
      spdlog::warn("cluster: this node fell behind; cnats dropped publications for its users");
    } else if (status != NATS_TIMEOUT) {
      spdlog::error("cluster: subscription ended: {}", last_nats_error(status));
      return;
    }
  }
}

void Subscriber::hand_over() {
  if (batch_.empty()) return;
  if (!inbox_.send_bulk(batch_)) {
    std::int64_t cost = 0;
    for (const auto& event : batch_) cost += unrouted_cost(std::get<RemoteDelivery>(event));
    window_.give_back(cost);
    spdlog::error("cluster: {} lines from other nodes dropped: out of memory", batch_.size());
  }
  batch_.clear();
}

bool Subscriber::handle(natsMsg* message) {
  const std::string_view payload(natsMsg_GetData(message),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(message)));
  const auto envelope = Envelope::decode(payload);
  if (!envelope) {
    ClusterStats::add(stats_.malformed);
    return true;
  }
  const auto check = sequences_.check(envelope->origin, envelope->incarnation, envelope->sequence);
  switch (check.verdict) {
    case SequenceCheck::Verdict::repeated:
      ClusterStats::add(stats_.repeated);
      return true;
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
  std::int64_t cost = 0;
  for (const Envelope::Entry& entry : envelope->entries) {
    batch_.emplace_back(RemoteDelivery{std::string(entry.recipients),
                                      std::make_shared<const std::string>(entry.line)});
    cost += unrouted_cost(std::get<RemoteDelivery>(batch_.back()));
  }
  if (window_.try_take(cost)) return true;
  // The broker is behind: what it has not seen yet goes first, then this publication waits.
  // Its own lines are handed over with the rest once they fit.
  std::vector<BrokerEvent> waiting(std::make_move_iterator(batch_.end() - static_cast<std::ptrdiff_t>(envelope->entries.size())),
                                   std::make_move_iterator(batch_.end()));
  batch_.resize(batch_.size() - waiting.size());
  hand_over();
  if (!window_.take(cost, stop_)) return false;
  batch_ = std::move(waiting);
  return true;
}

}  // namespace achat::cluster
