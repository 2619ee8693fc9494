#include "broker.h"

#include <algorithm>
#include <array>
#include <exception>
#include <spdlog/spdlog.h>
#include <utility>
#include <vector>

#include "achat/login_name.h"
#include "achat/protocol.h"
#include "limit_conflicts.h"

namespace achat {

namespace {

// Most events one round takes from the inbox. A round takes everything waiting up to this, so it
// grows with the backlog: when recipients spread over many writers, a bigger round gives each
// writer more lines per wake-up. At this size a round is still well under a millisecond.
constexpr std::size_t kMaxRound = 4096;
constexpr std::size_t kReapBatch = 64;

// Room for lines a peer's round buffer keeps between rounds: 1 KiB, plenty for a recipient's
// usual round. A burst grows it for one round only, so no idle peer keeps a burst's worth.
constexpr std::size_t kKeptPendingCapacity = 64;

// A client's "/who" is answered at most this often; sooner gets an error line. Each answer is
// shared until the names change, so the broker's cost is one line per asker and interval.
constexpr std::chrono::seconds kWhoInterval{1};
// In a cluster the reply also lists other nodes' logins, which change with no event the broker
// could count cheaply: it is rebuilt once a second old, and after a local login or departure at
// most this often, so a login storm under many askers costs a few rebuilds of the list a second.
constexpr std::chrono::milliseconds kWhoRebuildGap{100};

// Per-line errors are logged at debug level, at most this many a second.
constexpr std::uint32_t kBadLineLogsPerSecond = 10;

}  // namespace

ChannelOptions inbox_options(std::chrono::nanoseconds spin) {
  ChannelOptions options;
  options.consumer_spin = spin;
  options.shared_lanes = kInboxLanes;
  return options;
}

Broker::Broker(Receiver<BrokerEvent> inbox, Receiver<WriterDone> reaper, const Limits& limits,
               Stats& stats, const QueueBudget& budget, std::unique_ptr<ClusterRoutes> cluster,
               FaultHooks faults)
    : inbox_(std::move(inbox)),
      reaper_(std::move(reaper)),
      limits_(limits),
      stats_(stats),
      budget_(budget),
      bad_line_log_(kBadLineLogsPerSecond),
      cluster_(std::move(cluster)),
      faults_(std::move(faults)) {}

void Broker::run() {
  std::vector<BrokerEvent> events(kMaxRound);
  while (const std::size_t n = inbox_.receive(events)) {
    if (faults_.before_round) faults_.before_round();
    used_in_round_ = budget_.used();  // an upper bound all round: see flush()
    Stats::add(stats_.broker_rounds);
    Stats::add(stats_.broker_events, n);
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
    end_round();
    reap_available();
  }
  // Every reader is gone and has been routed: nothing more can arrive for any writer.
  log_lane_contention();
  cluster_.reset();  // closes the publisher's channel: nothing more goes to other nodes
  say_goodbye();
  std::array<WriterDone, kReapBatch> done;
  while (const std::size_t n = reaper_.receive(done)) {
    for (std::size_t i = 0; i < n; ++i) reap(done[i]);
  }
}

// What sharing producer lanes cost the readers over the server's life (see README "Channels").
void Broker::log_lane_contention() const {
  const LaneContention lanes = inbox_.lane_contention();
  if (lanes.sends == 0) return;
  // Bucket bounds: "< N ns", or "0" where that share of sends found the lane free.
  const auto wait = [&](double fraction) {
    const std::uint64_t bound = lanes.wait_quantile_ns(fraction);
    return bound == 0 ? std::string("0") : "< " + std::to_string(bound) + " ns";
  };
  spdlog::info("inbox lanes: {} sends, {} found the lane taken ({:.3f}%), wait p99 {}, p99.9 {}, "
               "max {}", lanes.sends, lanes.contended,
               100.0 * static_cast<double>(lanes.contended) / static_cast<double>(lanes.sends),
               wait(0.99), wait(0.999), wait(1.0));
}

// The peers still online when the server stops are told so, after everything routed to them.
void Broker::say_goodbye() {
  const auto notice = std::make_shared<const std::string>(format_error("server shutting down"));
  for (auto& [id, peer] : peers_) {
    if (peer.outbox) deliver(peer, notice);
    close_outbox(peer);
  }
  touched_.clear();
}

void Broker::reap_available() {
  std::array<WriterDone, kReapBatch> done;
  while (const std::size_t n = reaper_.try_receive(done)) {
    for (std::size_t i = 0; i < n; ++i) reap(done[i]);
  }
}

void Broker::reap(const WriterDone& done) {
  const auto found = peers_.find(done.id);
  if (found == peers_.end()) return;  // a connection that never went online
  Peer& peer = found->second;
  if (done.undelivered > 0) {
    spdlog::info("{} ({}): {} lines undeliverable", peer.login.typed, peer.address, done.undelivered);
  }
  peer.writer_done = true;
  forget_if_done(found);
}

void Broker::forget_if_done(std::unordered_map<ConnectionId, Peer>::iterator found) {
  Peer& peer = found->second;
  if (!peer.reader_gone || !peer.writer_done) return;
  if (peer.touched) {  // forgotten mid-round: its reader's last credit is returned now
    std::erase(touched_, &peer);
    if (const auto connection = peer.observed.lock(); connection && peer.routed_cost != 0) {
      connection->routed(peer.routed_cost);
    }
  }
  online_.erase(peer.login.unique);
  addressed_.erase(peer.login.address);
  sorted_names_.erase(peer.login.typed);
  who_changed_ = true;
  peers_.erase(found);
}

void Broker::handle(std::unique_ptr<LoginRequest>& boxed) {
  LoginRequest& request = *boxed;
  // A writer that just finished may be holding the name this login asks for.
  reap_available();
  if (const auto taken = online_.find(request.login.unique); taken != online_.end()) {
    const LoginName& holder = taken->second->login;
    // Told which login it collides with when that is not the same name in another case: it is
    // online, so anyone may see it in `from` lines anyway.
    request.verdict.set_value(
        holder.address == request.login.address
            ? "login \"" + request.login.typed + "\" is already online"
            : "login \"" + request.login.typed + "\" looks like \"" + holder.typed +
                  "\", which is already online");
    return;
  }
  const ConnectionId id = request.connection->id();
  Peer peer;
  peer.id = id;
  peer.address = request.connection->address();
  peer.connection = std::move(request.connection);
  peer.login = std::move(request.login);
  peer.outbox = std::move(request.outbox);
  peer.lease = std::move(request.lease);
  // Logged here rather than on the reader's small stack, which then never holds a formatter.
  spdlog::info("{} ({}): online", peer.login.typed, peer.address);
  peer.observed = peer.connection;
  Peer& online = peers_.emplace(id, std::move(peer)).first->second;
  online_.emplace(online.login.unique, &online);
  addressed_.emplace(online.login.address, &online);
  sorted_names_.insert(online.login.typed);
  who_changed_ = true;
  Stats::add(stats_.logged_in);
  request.verdict.set_value(std::nullopt);
}

// The online peer `id`, with `routed_cost` of its reader's flow control to be given back at the
// end of the round; nullptr if it is not online.
Broker::Peer* Broker::sender_of(ConnectionId id, std::int32_t routed_cost) {
  const auto found = peers_.find(id);
  if (found == peers_.end()) return nullptr;
  Peer& sender = found->second;
  sender.routed_cost += routed_cost;
  touch(sender);
  return &sender;
}

void Broker::handle(ChatMessage& message) {
  Peer* sender = sender_of(message.from, unrouted_cost(message));
  if (!sender) return;
  const std::uint64_t stamp = ++message_count_;
  std::string unknown;
  std::string too_long;  // on another node, but the line cannot cross NATS
  for_each_recipient(message.recipients, [&](std::string_view name) {
    const std::string address = address_key(name);
    const auto online = addressed_.find(address);
    Peer* recipient = online == addressed_.end() ? nullptr : online->second;
    if (!recipient && cluster_) {
      switch (cluster_->forward(address, unique_key(address), stamp, message.delivery)) {
        case ClusterRoutes::Forwarding::queued:
          Stats::add(stats_.deliveries_routed);  // online on another node
          return;
        case ClusterRoutes::Forwarding::too_long:
          too_long.append(too_long.empty() ? "" : ", ").append(name);
          return;
        case ClusterRoutes::Forwarding::not_held:
          break;
      }
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
  if (!unknown.empty()) {
    Stats::add(stats_.not_online_replies);
    deliver(*sender, std::make_shared<const std::string>(std::string(kNotOnlinePrefix) + unknown + "\n"));
  }
  if (!too_long.empty()) {
    deliver(*sender, std::make_shared<const std::string>(std::string(kTooLongForClusterPrefix) + too_long + "\n"));
  }
}

// Lines another node routed here: its sender was told about recipients online nowhere, so a
// recipient gone since then only counts as undeliverable.
void Broker::handle(RemoteDelivery& remote) {
  remote_routed_cost_ += unrouted_cost(remote);  // given back at the end of the round
  const std::uint64_t stamp = ++message_count_;
  for_each_recipient(remote.recipients, [&](std::string_view name) {
    const auto online = addressed_.find(address_key(name));
    if (online == addressed_.end() || !online->second->outbox) {
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
  if (!peer.outbox || !peer.lease || peer.lease->stamp() >= change->stamp) return;
  end_claimed_session(peer, "login taken on node " + change->node,
                      "login \"" + peer.login.typed + "\" was taken on another node, disconnecting");
}

// The cluster has not confirmed this session's claim for long enough that it may soon expire:
// the session ends now, before another node could take the name (fail closed).
void Broker::handle(std::unique_ptr<ClaimLapsed>& lapsed) {
  const auto local = online_.find(lapsed->name);
  if (local == online_.end()) return;
  Peer& peer = *local->second;
  // Only the session that holds this claim: a later login under the name has its own.
  if (!peer.outbox || !peer.lease || peer.lease->stamp() != lapsed->stamp) return;
  end_claimed_session(peer, "cluster claim not confirmed in time", "cluster unavailable, disconnecting");
}

// A node fell silent or was heard again: only the directory changes (its sessions are its own).
void Broker::handle(std::unique_ptr<NodePresence>& presence) {
  if (cluster_) cluster_->apply(*presence);
}

// Tells `peer` why, stops reading from it and closes its outbox after the notice.
void Broker::end_claimed_session(Peer& peer, std::string reason, const std::string& notice) {
  peer.connection->end_with(std::move(reason));
  deliver(peer, std::make_shared<const std::string>(format_error(notice)));
  if (!peer.outbox) return;  // the notice itself cut it
  peer.connection->socket().shutdown_read();  // the reader ends, so the writer can finish
  close_outbox(peer);
}

void Broker::handle(BadLine& bad) {
  Peer* sender = sender_of(bad.from, unrouted_cost(bad));
  if (!sender) return;
  Stats::add(stats_.protocol_errors);
  if (spdlog::should_log(spdlog::level::debug)) {
    std::uint64_t suppressed = 0;
    if (bad_line_log_.allow(suppressed)) {
      spdlog::debug("{} ({}): {}{}", sender->login.typed, sender->address, bad.reply,
                    suppressed ? " (" + std::to_string(suppressed) + " more not logged)" : "");
    }
  }
  deliver(*sender, std::make_shared<const std::string>(format_error(bad.reply)));
}

void Broker::handle(WhoRequest& who) {
  Peer* sender = sender_of(who.from, unrouted_cost(who));
  if (!sender) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < sender->next_who) {
    Stats::add(stats_.protocol_errors);
    deliver(*sender, std::make_shared<const std::string>(
                         format_error("/who at most once a second, line dropped")));
    return;
  }
  sender->next_who = now + kWhoInterval;
  const auto age = now - who_built_;
  const bool stale = who_changed_ || (cluster_ && age >= kWhoInterval);
  if (!who_reply_ || (stale && (!cluster_ || age >= kWhoRebuildGap))) build_who_reply(now);
  deliver(*sender, who_reply_);
}

void Broker::build_who_reply(std::chrono::steady_clock::time_point now) {
  std::vector<std::string_view> names(sorted_names_.begin(), sorted_names_.end());
  if (cluster_) {
    cluster_->online_names(names);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
  }
  // At most who_max names, and never longer than the longest delivery (so a reply cannot cut its
  // asker where a chat line would not, whatever other nodes' login limits are), room kept for
  // the tail that counts the rest.
  const std::size_t most_bytes = longest_delivered_line(limits_);
  const auto tail = [](std::size_t unlisted) { return "... and " + std::to_string(unlisted) + " more"; };
  const std::size_t tail_room = 2 + tail(names.size()).size();  // no tail is longer
  std::string line(kOnlinePrefix);
  std::size_t listed = 0;
  for (; listed < names.size() && listed < limits_.who_max; ++listed) {
    const std::size_t separator = listed == 0 ? 0 : 2;
    const std::size_t after = line.size() + separator + names[listed].size();
    const bool last = listed + 1 == names.size();
    if (after + (last ? 0 : tail_room) + 1 > most_bytes) break;
    line.append(separator == 0 ? "" : ", ").append(names[listed]);
  }
  if (listed < names.size()) line.append(listed == 0 ? "" : ", ").append(tail(names.size() - listed));
  line.push_back('\n');
  who_reply_ = std::make_shared<const std::string>(std::move(line));
  who_built_ = now;
  who_changed_ = false;
}

void Broker::handle(ReaderGone& gone) {
  const auto found = peers_.find(gone.id);
  if (found == peers_.end()) return;
  // Logged out from here on, though its writer may still be delivering what it was sent.
  if (!found->second.reader_gone) stats_.logged_in.fetch_sub(1, std::memory_order_relaxed);
  found->second.reader_gone = true;
  // When the server stops reading, everyone's writer stays open until all readers' events are
  // routed (see run()), so messages already accepted for this peer still reach it.
  if (!gone.server_stopping) close_outbox(found->second);
  forget_if_done(found);
}

// Queues `line` for `peer` at the end of this round, unless a bound cuts a client first.
void Broker::deliver(Peer& peer, OutboundLine line) {
  if (!peer.outbox) {  // leaving: its reader is gone, or it was cut
    Stats::add(stats_.lines_undeliverable);
    return;
  }
  const std::int64_t cost = queued_cost(*line);
  const bool error = is_error_reply(*line);
  touch(peer);
  if (peer.queued_at_touch + peer.pending_cost + cost > static_cast<std::int64_t>(limits_.max_outbound_bytes)) {
    Stats::add(stats_.slow_consumers);
    cut(peer, "slow consumer: more than " + std::to_string(limits_.max_outbound_bytes) +
                  " bytes queued");
    Stats::add(stats_.lines_undeliverable);
    return;
  }
  // Unread means handed to the writer in an earlier round and still not written: a burst of
  // replies from one round is not yet unread, and is bounded by the round and the cap above.
  if (error && peer.queued_errors_at_touch > static_cast<std::int64_t>(limits_.max_error_bytes)) {
    cut_for_errors(peer);
    return;
  }
  if (!within_budget(peer, cost)) {
    Stats::add(stats_.lines_undeliverable);
    return;
  }
  peer.pending.push_back(std::move(line));
  peer.pending_cost += cost;
  if (error) peer.pending_error_cost += cost;
  round_pending_cost_ += cost;
}

// True if `cost` more bytes fit in the server-wide budget, once clients with the largest
// backlogs have been cut as needed; false if `peer` itself was the one cut. A client that is
// leaving but still being written to (its reader is gone) counts in full and may be the one cut.
// Bytes of clients already cut count until their writers have discarded them (a shut-down socket
// fails the next write, so that is soon), but they do not make the broker cut more: one overflow
// cuts one client, not one per line while that memory is being freed.
bool Broker::within_budget(Peer& peer, std::int64_t cost) {
  const std::int64_t limit = budget_.limit();
  if (used_in_round_ + round_pending_cost_ + cost <= limit) return true;
  while (true) {
    std::int64_t used = budget_.used() + round_pending_cost_;
    std::int64_t draining = 0;
    Peer* largest = nullptr;
    std::int64_t largest_backlog = -1;
    for (auto& [id, candidate] : peers_) {
      const auto connection = candidate.observed.lock();
      if (!connection) continue;  // its reader and writer are done: it holds nothing
      if (candidate.discarding) {
        draining += connection->queued();
        continue;
      }
      const std::int64_t backlog = connection->queued() + candidate.pending_cost;
      if (backlog > largest_backlog) {
        largest = &candidate;
        largest_backlog = backlog;
      }
    }
    if (used - draining + cost <= limit) return true;
    if (!largest) return false;
    Stats::add(stats_.budget_cuts);
    cut(*largest, "largest backlog (" + std::to_string(largest_backlog) +
                      " bytes) cut while all queues together hold " + std::to_string(used) +
                      " of the " + std::to_string(limit) + " byte budget");
    if (largest == &peer) return false;
  }
}

// Ends `peer` now, online or leaving: records why, shuts its socket down (its reader sees the
// end, its writer fails and discards its queue), and drops what this round had for it.
void Broker::cut(Peer& peer, std::string reason) {
  if (const auto connection = peer.observed.lock()) {
    // A leaving peer's reader has already logged how it ended; the cut is logged here.
    if (!peer.outbox) spdlog::info("{} ({}): leaving, cut: {}", peer.login.typed, peer.address, reason);
    connection->end_with(std::move(reason));
    connection->socket().shutdown_both();
  }
  peer.discarding = true;
  Stats::add(stats_.lines_undeliverable, peer.pending.size());
  round_pending_cost_ -= peer.pending_cost;
  clear_pending(peer);
  close_outbox(peer);
}

// A client that leaves too many error replies unread gets one last one, and no more input is
// read from it; its writer delivers what is queued (or meets the stall deadline) and closes.
void Broker::cut_for_errors(Peer& peer) {
  Stats::add(stats_.error_floods);
  peer.connection->end_with("too many errors: more than " + std::to_string(limits_.max_error_bytes) +
                            " bytes of error replies unread");
  auto last = std::make_shared<const std::string>(format_error("too many errors, disconnecting"));
  const std::int64_t cost = queued_cost(*last);
  touch(peer);
  peer.pending.push_back(std::move(last));
  peer.pending_cost += cost;
  peer.pending_error_cost += cost;
  round_pending_cost_ += cost;
  peer.connection->socket().shutdown_read();
  close_outbox(peer);
}

// Lists `peer` for the end of the round. Its writer only ever lowers what is queued while a
// round runs (the broker adds at the end, or mid-round for a peer it then queues nothing more
// to), so the counters read here are upper bounds for the whole round: one read of each shared
// counter per peer and round, not one per line.
void Broker::touch(Peer& peer) {
  if (peer.touched) return;
  peer.touched = true;
  touched_.push_back(&peer);
  if (const auto& connection = peer.connection) {
    peer.queued_at_touch = connection->queued();
    peer.queued_errors_at_touch = connection->queued_errors();
  }
}

// Hands `peer`'s pending lines to its writer. Their cost moves from round_pending_cost_ into the
// budget, and (for a flush mid-round, of a peer that leaves) into used_in_round_ too, so the
// budget check still counts them for the rest of the round.
void Broker::flush(Peer& peer) {
  if (peer.pending.empty()) return;
  if (enqueue_lines(peer.outbox, *peer.connection, peer.pending, peer.pending_cost,
                    peer.pending_error_cost)) {
    used_in_round_ += peer.pending_cost;
  } else {
    Stats::add(stats_.lines_undeliverable, peer.pending.size());
  }
  round_pending_cost_ -= peer.pending_cost;
  clear_pending(peer);
}

void Broker::clear_pending(Peer& peer) {
  peer.pending.clear();
  if (peer.pending.capacity() > kKeptPendingCapacity) peer.pending = std::vector<OutboundLine>();
  peer.pending_cost = 0;
  peer.pending_error_cost = 0;
}

// Hands every writer its lines of this round (and the other nodes theirs) and every reader
// back its flow-control credit.
void Broker::end_round() {
  if (cluster_) {
    cluster_->flush();
    cluster_->handled_remote(std::exchange(remote_routed_cost_, 0));
  }
  for (Peer* peer : touched_) {
    flush(*peer);
    if (peer->routed_cost != 0) {
      if (const auto connection = peer->observed.lock()) connection->routed(peer->routed_cost);
      peer->routed_cost = 0;
    }
    peer->touched = false;
  }
  touched_.clear();
}

// The peer can receive nothing more. Its connection (and so its socket) is released as soon as
// its reader and writer are done with it, while the name stays taken until WriterDone. Its
// cluster claim goes now: nothing can reach or come from this session any more, and a WriterDone
// does not wake the broker, so waiting for it could hold the claim until the next event.
void Broker::close_outbox(Peer& peer) {
  if (!peer.outbox) return;
  flush(peer);
  peer.outbox.reset();
  peer.connection.reset();
  peer.lease.reset();
}

}  // namespace achat
