#include "achat/broker.h"

#include <array>
#include <spdlog/spdlog.h>

#include "achat/protocol.h"

namespace achat {

namespace {

constexpr std::size_t kEventBatch = 64;

}  // namespace

Broker::Broker(Receiver<BrokerEvent> inbox, Receiver<WriterDone> reaper, const Limits& limits,
               Stats& stats)
    : inbox_(std::move(inbox)), reaper_(std::move(reaper)), limits_(limits), stats_(stats) {}

void Broker::run() {
  std::array<BrokerEvent, kEventBatch> events;
  while (const std::size_t n = inbox_.receive(events)) {
    for (std::size_t i = 0; i < n; ++i) {
      std::visit([this](auto& event) { handle(event); }, events[i]);
      events[i] = std::monostate{};
    }
    reap_available();
  }
  // Every reader is gone and has been routed: nothing more can arrive for any writer.
  for (auto& [id, peer] : peers_) close_outbox(peer);
  std::array<WriterDone, kEventBatch> done;
  while (const std::size_t n = reaper_.receive(done)) {
    for (std::size_t i = 0; i < n; ++i) reap(done[i]);
  }
}

void Broker::reap_available() {
  std::array<WriterDone, kEventBatch> done;
  while (const std::size_t n = reaper_.try_receive(done)) {
    for (std::size_t i = 0; i < n; ++i) reap(done[i]);
  }
}

void Broker::reap(const WriterDone& done) {
  const auto found = peers_.find(done.id);
  if (found == peers_.end()) return;  // a connection that never went online
  Peer& peer = found->second;
  if (done.undelivered > 0) {
    spdlog::warn("{} ({}): {} lines undeliverable", peer.name, peer.address, done.undelivered);
  }
  online_.erase(peer.name);
  peers_.erase(found);
}

void Broker::handle(LoginRequest& request) {
  // A writer that just finished may be holding the name this login asks for.
  reap_available();
  if (online_.contains(request.name)) {
    request.verdict.set_value("login \"" + request.name + "\" is already online");
    return;
  }
  const ConnectionId id = request.connection->id();
  online_.emplace(request.name, id);
  std::string address = request.connection->address();
  peers_.emplace(id, Peer{std::move(request.connection), std::move(address),
                          std::move(request.name), std::move(request.outbox)});
  request.verdict.set_value(std::nullopt);
}

void Broker::handle(ChatMessage& message) {
  const auto sender = peers_.find(message.from);
  if (sender == peers_.end()) return;
  const std::uint64_t stamp = ++message_count_;
  std::string unknown;
  for_each_recipient(message.recipients, [&](std::string_view name) {
    const auto online = online_.find(name);
    if (online == online_.end()) {
      unknown.append(unknown.empty() ? "" : ", ").append(name);
      return;
    }
    Peer& recipient = peers_.at(online->second);
    if (recipient.last_message == stamp) return;
    recipient.last_message = stamp;
    deliver(recipient, message.delivery);
  });
  if (!unknown.empty()) notify(sender->second, "not online: " + unknown);
}

void Broker::deliver(Peer& peer, const OutboundLine& line) {
  if (!peer.outbox) return;  // leaving: its reader is gone or it was cut
  if (!enqueue_line(peer.outbox, *peer.connection, line)) return;
  Stats::add(stats_.deliveries_routed);
  if (peer.connection->add_queued(0) > static_cast<std::int64_t>(limits_.max_outbound_bytes)) {
    Stats::add(stats_.slow_consumers);
    spdlog::warn("{} ({}): slow consumer, more than {} bytes queued: disconnecting", peer.name,
                 peer.address, limits_.max_outbound_bytes);
    peer.connection->socket().shutdown_both();
    close_outbox(peer);
  }
}

void Broker::notify(Peer& peer, std::string_view error) {
  if (!peer.outbox) return;
  Stats::add(stats_.protocol_errors);
  enqueue_line(peer.outbox, *peer.connection, std::make_shared<const std::string>(format_error(error)));
}

void Broker::handle(ReaderGone& gone) {
  const auto found = peers_.find(gone.id);
  if (found == peers_.end()) return;
  // When the server stops reading, everyone's writer stays open until all readers' events are
  // routed (see run()), so messages already accepted for this peer still reach it.
  if (!gone.server_stopping) close_outbox(found->second);
}

// The peer can receive nothing more; its connection (and so its socket) is released as soon as
// its reader and writer are done with it, while the name stays taken until WriterDone.
void Broker::close_outbox(Peer& peer) {
  peer.outbox.reset();
  peer.connection.reset();
}

}  // namespace achat
