// The broker: the only owner of the map of online peers, and so the single order of events.
#pragma once

#include <cstdint>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/limits.h"
#include "log_rate_limiter.h"
#include "achat/queue_budget.h"
#include "achat/fault_hooks.h"
#include "achat/stats.h"

namespace achat {

// Producer lanes of the broker's inbox (see ChannelOptions::shared_lanes): every reader holds a
// sender, so without lanes the broker's receive would scan one producer per online client.
// 32 lanes keep that scan short while two readers rarely share a lane at the same moment.
inline constexpr std::size_t kInboxLanes = 32;

// Options for the broker's inbox channel, whose receiver may poll for up to `spin` before it
// sleeps (see ChannelOptions::consumer_spin).
ChannelOptions inbox_options(std::chrono::nanoseconds spin);

// Runs on the broker thread alone; no other thread touches its maps, so they need no lock.
// Owns one OutboxSender per online peer's writer, and so decides everything queued to an
// online client (deliveries, "not online" notices, error replies). Promises:
// - events from one reader are handled in the order that reader sent them, lines reach each
//   writer in the order they were routed, so a client's replies come in the order of its input;
// - what is queued to a client stays under the per-client cap, its unread error replies (those
//   handed to its writer in an earlier round) under the error budget, and what is queued to all
//   clients under the server-wide budget: a line
//   that would break a bound cuts a client instead (the one it was for, or for the global
//   budget the one with the largest backlog), with the reason recorded on its connection;
// - each reader is released from flow control as its events are handled, and the cluster's
//   subscriber (ClusterRoutes::handled_remote) once a round has handled its lines;
// - "/who" gets one "online:" line (the logins of this node and, in a cluster, of the others,
//   sorted, at most limits.who_max and never longer than longest_delivered_line), counted
//   against the asker's outbound cap; a client asking more than once a second gets an error
//   line instead, so ten thousand askers cost the broker a bounded share of its time;
// - a login stays taken until that connection's reader stream has ended and its writer has
//   finished (WriterDone), so a reconnect can never be confused with the session it replaces,
//   and a cut client's reader, still sending, gets its flow-control credit back;
// - a peer's outbox is closed when its reader's stream ends, or, once the server stops
//   reading, only after every reader's events are routed and the peer has been sent
//   "error: server shutting down";
// - run() returns when the inbox is closed (listener and every reader gone) and every writer
//   has reported done.
// In a cluster, `cluster` routes names online on other nodes (and is destroyed when run()
// returns, closing the publisher's channel); standalone it is null.
class Broker {
 public:
  Broker(Receiver<BrokerEvent> inbox, Receiver<WriterDone> reaper, const Limits& limits,
         Stats& stats, const QueueBudget& budget,
         std::unique_ptr<ClusterRoutes> cluster = nullptr, FaultHooks faults = {});
  void run();

 private:
  struct Peer {
    ConnectionId id = 0;
    std::shared_ptr<Connection> connection;  // released with the outbox, so the socket can close
    std::weak_ptr<Connection> observed;      // for as long as it lives: what its writer still holds
    std::string address;
    LoginName login;  // shown as typed; found by login.address, kept unique by login.unique
    OutboxSender outbox;            // empty once the peer may receive nothing more
    std::uint64_t last_message = 0; // dedupes a recipient listed twice in one message
    // Lines routed during the current round, handed to the writer in one go at the end of the
    // round (one wake-up and one sendmsg for many lines), and their cost.
    std::vector<OutboundLine> pending;
    std::int64_t pending_cost = 0;
    std::int64_t pending_error_cost = 0;
    std::int32_t routed_cost = 0;  // this round's handled events from its reader
    bool touched = false;          // listed in touched_ this round
    std::int64_t queued_at_touch = 0;         // the writer's backlog when touched this round
    std::int64_t queued_errors_at_touch = 0;  // and the error replies in it
    std::unique_ptr<LoginLease> lease;  // the cluster-wide claim, released with the outbox
    // The peer is forgotten (and its name free) once both have ended: its reader's stream,
    // so every event of that reader finds it (and returns its flow-control credit), and its
    // writer, so a reconnect is never confused with this session.
    bool reader_gone = false;
    bool writer_done = false;
    bool discarding = false;  // cut: its socket is shut down, so its writer discards its queue
    std::chrono::steady_clock::time_point next_who{};  // its next "/who" answered from then on
  };

  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };

  void handle(std::monostate&) {}
  void handle(std::unique_ptr<LoginRequest>& request);
  void handle(ChatMessage& message);
  void handle(BadLine& bad);
  void handle(WhoRequest& who);
  void build_who_reply(std::chrono::steady_clock::time_point now);
  void handle(ReaderGone& gone);
  Peer* sender_of(ConnectionId id, std::int32_t routed_cost);
  void handle(RemoteDelivery& remote);
  void handle(std::unique_ptr<DirectoryChange>& change);
  void handle(std::unique_ptr<ClaimLapsed>& lapsed);
  void handle(std::unique_ptr<NodePresence>& presence);
  void end_claimed_session(Peer& peer, std::string reason, const std::string& notice);
  void reap(const WriterDone& done);
  void forget_if_done(std::unordered_map<ConnectionId, Peer>::iterator peer);
  void reap_available();
  void deliver(Peer& peer, OutboundLine line);
  bool within_budget(Peer& peer, std::int64_t cost);
  void cut(Peer& peer, std::string reason);
  void cut_for_errors(Peer& peer);
  void touch(Peer& peer);
  void flush(Peer& peer);
  void clear_pending(Peer& peer);
  void end_round();
  void close_outbox(Peer& peer);
  void say_goodbye();
  void log_lane_contention() const;

  Receiver<BrokerEvent> inbox_;
  Receiver<WriterDone> reaper_;
  const Limits& limits_;
  Stats& stats_;
  const QueueBudget& budget_;
  std::unordered_map<ConnectionId, Peer> peers_;
  // Logins taken, pointing into peers_ (whose nodes never move), by uniqueness key (at most one
  // peer per key: a login whose key is taken is refused) and by address key (one lookup per
  // recipient). Each key determines the other, so both maps hold the same peers; an entry and
  // its peer are erased together, in forget_if_done().
  std::unordered_map<std::string, Peer*, NameHash, std::equal_to<>> online_;
  std::unordered_map<std::string, Peer*, NameHash, std::equal_to<>> addressed_;
  // The same names, sorted (views of each Peer's name), and the "online:" reply built from them
  // (with other nodes' logins, in a cluster), shared by every asker until it is rebuilt: see
  // kWhoRebuildGap (null: to be built).
  std::set<std::string_view> sorted_names_;
  OutboundLine who_reply_;
  std::chrono::steady_clock::time_point who_built_{};
  bool who_changed_ = false;  // a local login or departure since who_reply_ was built
  std::vector<Peer*> touched_;         // peers with pending lines or routed cost this round
  std::int64_t round_pending_cost_ = 0; // queued this round, not yet in budget_
  // budget_.used() at the round's start plus what the round has handed to writers since: an
  // upper bound of budget_.used() all round, since meanwhile only writers lower it.
  std::int64_t used_in_round_ = 0;
  std::uint64_t message_count_ = 0;
  std::int64_t remote_routed_cost_ = 0;  // this round's RemoteDeliveries, for the cluster's bound
  LogRateLimiter bad_line_log_;
  std::unique_ptr<ClusterRoutes> cluster_;
  FaultHooks faults_;  // tests only; empty in production
};

}  // namespace achat
