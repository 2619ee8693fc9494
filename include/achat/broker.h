// The broker: the only owner of the map of online peers, and so the single order of events.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/limits.h"
#include "achat/stats.h"

namespace achat {

// Runs on the broker thread alone; no other thread touches its maps, so they need no lock.
// Owns one Sender per online peer's writer channel. Promises:
// - events from one reader are handled in the order that reader sent them, and lines reach each
//   writer in the order they were routed;
// - a login stays taken until that connection's writer has finished (WriterDone), so a reconnect
//   can never be confused with the session it replaces;
// - a peer's writer channel is closed when its reader's stream ends, or, once the server stops
//   reading, only after every reader's events are routed;
// - run() returns when the inbox is closed (listener and every reader gone) and every writer
//   has reported done.
// In a cluster, `cluster` routes names online on other nodes (and is destroyed when run()
// returns, closing the publisher's channel); standalone it is null.
class Broker {
 public:
  Broker(Receiver<BrokerEvent> inbox, Receiver<WriterDone> reaper, const Limits& limits,
         Stats& stats, std::unique_ptr<ClusterRoutes> cluster = nullptr);
  void run();

 private:
  struct Peer {
    ConnectionId id = 0;
    std::shared_ptr<Connection> connection;  // released with the outbox
    std::string address;
    std::string name;
    Sender<OutboundLine> outbox;   // empty once the peer may receive nothing more
    std::uint64_t last_message = 0; // dedupes a recipient listed twice in one message
    // Lines routed during the current batch of events, handed to the writer in one go at the
    // end of the batch (one wake-up and one sendmsg for many lines).
    std::vector<OutboundLine> pending;
    std::int64_t pending_bytes = 0;
    std::unique_ptr<LoginLease> lease;  // the cluster-wide claim, released with the outbox
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
  void handle(ReaderGone& gone);
  void handle(RemoteDelivery& remote);
  void handle(std::unique_ptr<DirectoryChange>& change);
  void reap(const WriterDone& done);
  void reap_available();
  void deliver(Peer& peer, OutboundLine line);
  void notify(Peer& peer, std::string_view error);
  void flush(Peer& peer);
  void flush_all();
  void close_outbox(Peer& peer);

  Receiver<BrokerEvent> inbox_;
  Receiver<WriterDone> reaper_;
  const Limits& limits_;
  Stats& stats_;
  std::unordered_map<ConnectionId, Peer> peers_;
  // Logins taken, pointing into peers_ (whose nodes never move): one lookup per recipient.
  // An entry and its peer are erased together, in reap().
  std::unordered_map<std::string, Peer*, NameHash, std::equal_to<>> online_;
  std::vector<ConnectionId> with_pending_;  // peers whose `pending` is not empty
  std::uint64_t message_count_ = 0;
  std::unique_ptr<ClusterRoutes> cluster_;
};

}  // namespace achat
