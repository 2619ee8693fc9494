#include "achat/broker.h"

#include <array>
#include <exception>
#include <spdlog/spdlog.h>

#include "achat/protocol.h"

namespace achat {

namespace {

constexpr std::size_t kEventBatch = 64;

}  // namespace

Broker::Broker(Receiver<BrokerEvent> inbox, Receiver<WriterDone> reaper, const Limits& limits,
               Stats& stats, std::unique_ptr<ClusterRoutes> cluster)
    : inbox_(std::move(inbox)), reaper_(std::move(reaper)), limits_(limits), stats_(stats),
      cluster_(std::move(cluster)) {}

void Broker::run() {
  std::array<BrokerEvent, kEventBatch> events;
  while (const std::size_t n = inbox_.receive(events)) {
    for (std::size_t i = 0; i < n; ++i) {
      // One event that fails (say, out of memory) is logged and dropped; the broker, which
      // every client depends on, carries on.
      try {
        std::visit([this](auto& event) { handle(event); }, events[i]);
      } catch (const std::exception& error) {
        spdlog::error("broker: event dropped: {}", error.what());
      }
      events[i] = std::monostate{};
    }
    flush_all();
    reap_available();
  }
  // Every reader is gone and has been routed: nothing more can arrive for any writer.
  cluster_.reset();
  for (auto& [id, peer] : peers_) close_outbox(peer);
  with_pending_.clear();
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

void Broker::handle(std::unique_ptr<LoginRequest>& boxed) {
  LoginRequest& request = *boxed;
  // A writer that just finished may be holding the name this login asks for.
  reap_available();
  if (online_.contains(request.name)) {
    request.verdict.set_value("login \"" + request.name + "\" is already online");
    return;
  }
  const ConnectionId id = request.connection->id();
  Peer peer;
  peer.id = id;
  peer.address = request.connection->address();
  peer.connection = std::move(request.connection);
  peer.name = std::move(request.name);
  peer.outbox = std::move(request.outbox);
  peer.lease = std::move(request.lease);
  // Logged here rather than on the reader's small stack, which then never holds a formatter.
  spdlog::info("{} ({}): online", peer.name, peer.address);
  Peer& online = peers_.emplace(id, std::move(peer)).first->second;
  online_.emplace(online.name, &online);
  request.verdict.set_value(std::nullopt);
}

void Broker::handle(ChatMessage& message) {
  const auto sender = peers_.find(message.from);
  if (sender == peers_.end()) return;
  const std::uint64_t stamp = ++message_count_;
  std::string unknown;
  for_each_recipient(message.recipients, [&](std::string_view name) {
    const auto online = online_.find(name);
    Peer* recipient = online == online_.end() ? nullptr : online->second;
    if (!recipient && cluster_ && cluster_->forward(name, stamp, message.delivery)) {
      Stats::add(stats_.deliveries_routed);  // online on another node
      return;
    }
    // A peer whose reader is gone keeps its name until its writer is done, but receives nothing.
    if (!recipient || !recipient->outbox) {
      unknown.append(unknown.empty() ? "" : ", ").append(name);
      return;
    }
    if (recipient->last_message == stamp) return;
    recipient->last_message = stamp;
    Stats::add(stats_.deliveries_routed);
    deliver(*recipient, message.delivery);
  });
  if (!unknown.empty()) notify(sender->second, "not online: " + unknown);
}

// Lines another node routed here: its sender was told about recipients online nowhere, so a
// recipient gone since then only counts as undeliverable.
void Broker::handle(RemoteDelivery& remote) {
  const std::uint64_t stamp = ++message_count_;
  for_each_recipient(remote.recipients, [&](std::string_view name) {
    const auto online = online_.find(name);
    if (online == online_.end() || !online->second->outbox) {
      Stats::add(stats_.lines_undeliverable);
      return;
    }
    if (online->second->last_message == stamp) return;
    online->second->last_message = stamp;
    Stats::add(stats_.deliveries_routed);
    deliver(*online->second, remote.delivery);
  });
}

void Broker::handle(std::unique_ptr<DirectoryChange>& change) {
  if (!cluster_ || !cluster_->apply(*change)) return;
  const auto local = online_.find(change->name);
  if (local == online_.end()) return;
  Peer& peer = *local->second;
  // Another node claimed the name after this session did: this node's claim expired while it
  // could not reach NATS. Two sessions must not speak under one name, so this one ends.
  if (!peer.lease || peer.lease->revision() >= change->revision) return;
  spdlog::warn("{} ({}): login taken on node {}: disconnecting", peer.name, peer.address, change->node);
  notify(peer, "login \"" + peer.name + "\" was taken on another node, disconnecting");
  peer.connection->socket().shutdown_read();  // the reader ends, so the writer can finish
  close_outbox(peer);
}

void Broker::deliver(Peer& peer, OutboundLine line) {
  if (!peer.outbox) return;  // leaving: its reader is gone or it was cut
  const auto bytes = static_cast<std::int64_t>(line->size());
  if (peer.connection->queued() + peer.pending_bytes + bytes >
      static_cast<std::int64_t>(limits_.max_outbound_bytes)) {
    Stats::add(stats_.slow_consumers);
    spdlog::warn("{} ({}): slow consumer, more than {} bytes queued: disconnecting", peer.name,
                 peer.address, limits_.max_outbound_bytes);
    peer.connection->socket().shutdown_both();
    Stats::add(stats_.lines_undeliverable, peer.pending.size() + 1);
    peer.pending.clear();
    peer.pending_bytes = 0;
    close_outbox(peer);
    return;
  }
  if (peer.pending.empty()) with_pending_.push_back(peer.id);
  peer.pending.push_back(std::move(line));
  peer.pending_bytes += bytes;
}

void Broker::notify(Peer& peer, std::string_view error) {
  Stats::add(stats_.protocol_errors);
  deliver(peer, std::make_shared<const std::string>(format_error(error)));
}

void Broker::flush(Peer& peer) {
  if (peer.pending.empty()) return;
  if (!enqueue_lines(peer.outbox, *peer.connection, peer.pending, peer.pending_bytes)) {
    Stats::add(stats_.lines_undeliverable, peer.pending.size());
  }
  peer.pending.clear();
  peer.pending_bytes = 0;
}

void Broker::flush_all() {
  if (cluster_) cluster_->flush();
  for (const ConnectionId id : with_pending_) {
    if (const auto found = peers_.find(id); found != peers_.end()) flush(found->second);
  }
  with_pending_.clear();
}

void Broker::handle(ReaderGone& gone) {
  const auto found = peers_.find(gone.id);
  if (found == peers_.end()) return;
  // When the server stops reading, everyone's writer stays open until all readers' events are
  // routed (see run()), so messages already accepted for this peer still reach it.
  if (!gone.server_stopping) close_outbox(found->second);
}

// The peer can receive nothing more; its connection (and so its socket) is released as soon as
// its reader and writer are done with it, while the name stays taken until WriterDone. Its
// cluster claim goes now: nothing can reach or come from this session any more, and a WriterDone
// does not wake the broker, so waiting for it could hold the claim until the next event.
void Broker::close_outbox(Peer& peer) {
  flush(peer);
  peer.outbox.reset();
  peer.connection.reset();
  peer.lease.reset();
}

}  // namespace achat
