// The a-chat server: listener, broker and per-connection threads, wired by channels.
#pragma once

#include <atomic>
#include <chrono>
#include <boost/thread/thread.hpp>
#include <cstdint>
#include <mutex>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "achat/crew.h"
#include "achat/events.h"
#include "achat/limits.h"
#include "achat/refuser.h"
#include "achat/registry.h"
#include "achat/socket.h"
#include "achat/stats.h"

namespace achat {

struct ServerConfig {
  Endpoint endpoint;  // port 0 picks a free one: see Server::port()
  Limits limits;
  int listen_backlog = 4096;
  ClusterConfig cluster;  // standalone unless enabled()
};

// Owns the listening socket, the accept thread, the broker thread and (through its Crew) every
// reader and writer thread. Constructed, started and stopped by one controlling thread (main,
// or a test). Shutdown follows ownership: stop() stops accepting (the accept thread's inbox
// sender goes), stops reading (each reader's stream ends), then the broker routes everything
// already read, closes every writer's channel, and returns when every writer has delivered its
// queue; connections still writing after the drain timeout are cut. No accepted line is dropped
// without being counted in stats().lines_undeliverable.
class Server {
 public:
  explicit Server(ServerConfig config);  // binds now; throws std::system_error
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // stop()s if still running

  std::uint16_t port() const { return port_; }
  void start();
  void stop();  // idempotent; blocks until every thread has ended
  const Stats& stats() const { return stats_; }
  Stats& stats() { return stats_; }  // for counts kept outside the server: dropped log lines
  std::size_t connections() const { return registry_.size(); }
  std::size_t threads() const { return crew_.running(); }
  // Cost (see queued_cost) of what is queued for writers across all connections, and its budget.
  std::int64_t queued_bytes() const { return registry_.budget().used(); }
  std::int64_t queued_bytes_budget() const { return registry_.budget().limit(); }
  // Any thread, while the Server lives: who is connected, for an operator (see Registry).
  const Registry& registry() const { return registry_; }
  // The cluster membership, null when standalone. Its controlling thread only, or a thread the
  // controlling thread stops before stop() (the metrics server): stop() destroys it.
  const ClusterNode* cluster() const { return cluster_.get(); }

 private:
  void accept_loop(Sender<BrokerEvent> inbox, Sender<WriterDone> reaper);
  void serve(Socket socket, std::chrono::steady_clock::time_point accepted_at,
             const Sender<BrokerEvent>& inbox, const Sender<WriterDone>& reaper);

  const ServerConfig config_;
  Stats stats_;
  Registry registry_;  // declared before crew_: outlives every connection the threads hold
  Crew crew_;
  Refuser refuser_;
  Socket listener_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;
  std::unique_ptr<ClusterNode> cluster_;  // null when standalone; outlives the broker thread
  boost::thread accept_thread_;
  boost::thread broker_thread_;
};

}  // namespace achat
