// The a-chat server: listener, broker and per-connection threads, wired by channels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "achat/cluster.h"
#include "achat/endpoint.h"
#include "achat/fault_hooks.h"
#include "achat/limits.h"
#include "achat/stats.h"
#include "achat/thread_counts.h"
#include "achat/web_config.h"

namespace achat {

class Registry;

struct ServerConfig {
  Endpoint endpoint;  // port 0 picks a free one: see Server::port()
  Limits limits;
  int listen_backlog = 4096;
  ClusterConfig cluster;  // standalone unless enabled()
  FaultHooks faults;      // tests only: empty in production
  WebConfig web;          // browsers (page and WebSocket) when web.listen is set
};

// Owns the listening socket (and the web listener, when configured: a browser is a client like
// any other, served by a reader and a writer over a WebSocket), the accept thread(s), the broker thread and (through its Crew) every
// reader and writer thread; all of it lives in Server::Impl (src/server/), so this header shows
// only what the programs that embed a server use. Constructed, started and stopped by one
// controlling thread (main, or a test). Shutdown follows ownership: stop() stops accepting (the
// accept thread's inbox sender goes), stops reading (each reader's stream ends), then the broker
// routes everything already read, closes every writer's outbox, and returns when every writer
// has delivered its queue; connections still writing after the drain timeout are cut. No
// accepted line is dropped without being counted in stats().lines_undeliverable.
class Server {
 public:
  explicit Server(ServerConfig config);  // binds now; throws std::system_error
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // stop()s if still running

  std::uint16_t port() const;
  // The web listener's port (page and WebSocket), 0 when config.web.listen is not set.
  std::uint16_t web_port() const;
  void start();
  void stop();  // idempotent; blocks until every thread has ended
  const Stats& stats() const;
  Stats& stats();  // for counts kept outside the server: dropped log lines
  std::size_t connections() const;
  std::size_t threads() const;  // reader and writer threads serving a connection
  ThreadCounts thread_counts() const;  // and those parked in the thread cache, created, reused
  // Cost (see queued_cost) of what is queued for writers across all connections, and its budget.
  std::int64_t queued_bytes() const;
  std::int64_t queued_bytes_budget() const;
  // Any thread, while the Server lives: who is connected, for an operator (see Registry).
  const Registry& registry() const;
  // The cluster membership, null when standalone. Its controlling thread only, or a thread the
  // controlling thread stops before stop() (the metrics server): stop() destroys it.
  const ClusterNode* cluster() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace achat
