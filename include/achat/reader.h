// The body of a connection's reader thread.
#pragma once

#include <atomic>
#include <memory>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/limits.h"
#include "achat/stats.h"

namespace achat {

// Everything one reader thread owns. Runs on that thread alone, blocking in recv(). Reads the
// login, waits for the broker's verdict, then turns each line into a ChatMessage. Bad lines get
// an error line through its own writer and are dropped; a line over the limit, a bad or refused
// login, or a login timeout end the connection after the error line. When it returns, for any
// reason, it has released its senders: its stream's end reaches the broker and its writer's
// channel loses one of its two senders (the broker holds the other). In a cluster the login is
// first claimed cluster-wide, blocking this thread (never the broker) on NATS.
struct ReaderTask {
  std::shared_ptr<Connection> connection;
  Sender<BrokerEvent> inbox;
  Sender<OutboundLine> outbox;
  const Limits& limits;
  Stats& stats;
  const std::atomic<bool>& server_stopping;
  ClusterNode* cluster;  // null when standalone

  void operator()();
};

}  // namespace achat
