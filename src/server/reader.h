// The body of a connection's reader thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/fault_hooks.h"
#include "achat/limits.h"
#include "achat/stats.h"
#include "inbox_stream.h"
#include "transport.h"

namespace achat {

// Everything one reader thread owns. Runs on that thread alone, blocking in recv() (and, when
// the broker is behind, on its flow control). Reads the login (which must be complete within
// the login timeout from accept), waits for the broker's verdict, then turns each line into a
// ChatMessage, or a BadLine whose error reply the broker queues in order with the others. A
// line over the limit ends the connection after its reply; a bad or refused login, or a login
// timeout, are answered through its own writer and end it (counted as refused logins). A
// message the source refuses (a WebSocket message holding CR, LF or NUL) gets an error line and
// is never split. When the task object is destroyed (after it ran, however it ended, or unrun),
// its stream's end reaches the broker (InboxStream) and its writer's outbox loses one of its two
// senders (the broker holds the other). It logs the connection's one
// disconnect line. In a cluster the login is first claimed cluster-wide, blocking this thread
// (never the broker) on NATS.
struct ReaderTask {
  std::shared_ptr<Connection> connection;
  InboxStream stream;  // its end (ReaderGone) is sent when the task is destroyed
  OutboxSender outbox;
  const Limits& limits;
  Stats& stats;
  const std::atomic<bool>& server_stopping;
  std::chrono::steady_clock::time_point accepted_at;
  ClusterNode* cluster;  // null when standalone
  const FaultHooks& hooks;  // tests only; empty in production
  // Where lines come from: null for TCP (a LineReader on the connection's socket), else the
  // transport's own source (a WebSocket), used by this thread only.
  std::shared_ptr<LineSource> source;

  void operator()();

 private:
  void reply_before_login(std::string_view why);
  void reject_login(const std::string& reply);
  std::string end_reason(std::string seen);
};

}  // namespace achat
