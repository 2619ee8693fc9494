// The server's parts behind achat::Server: the listeners (chat, and web when configured) and
// their accept threads, the broker thread,
// the Crew of reader and writer threads, the Registry and the Refuser.
#pragma once

#include <atomic>
#include <boost/thread/thread.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "achat/crew.h"
#include "achat/events.h"
#include "achat/registry.h"
#include "achat/server.h"
#include "achat/socket.h"
#include "achat/stats.h"
#include "refuser.h"

namespace achat {

// What Server promises (achat/server.h), implemented: the same threads and the same contract.
class Server::Impl {
 public:
  explicit Impl(ServerConfig config);  // binds now; throws std::system_error
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl();  // stop()s if still running

  std::uint16_t port() const { return port_; }
  std::uint16_t web_port() const { return web_port_; }
  void start();
  void stop();
  const Stats& stats() const { return stats_; }
  Stats& stats() { return stats_; }
  std::size_t connections() const { return registry_.size(); }
  std::size_t threads() const { return crew_.running(); }
  ThreadCounts thread_counts() const { return crew_.counts(); }
  std::int64_t queued_bytes() const { return registry_.budget().used(); }
  std::int64_t queued_bytes_budget() const { return registry_.budget().limit(); }
  const Registry& registry() const { return registry_; }
  const ClusterNode* cluster() const { return cluster_.get(); }

 private:
  std::size_t prestart_threads();
  void accept_loop(const Socket& listener, Transport transport, Sender<BrokerEvent> inbox,
                   Sender<WriterDone> reaper);
  void serve(Socket socket, Transport transport, std::chrono::steady_clock::time_point accepted_at,
             const Sender<BrokerEvent>& inbox, const Sender<WriterDone>& reaper);

  const ServerConfig config_;
  Stats stats_;
  Registry registry_;  // declared before crew_: outlives every connection the threads hold
  Crew crew_;
  // Started before the listeners exist, so no connection waits in a backlog meanwhile and a
  // port that accepts means a server ready to serve.
  const std::size_t prestarted_threads_;
  Refuser refuser_;
  Socket listener_;
  std::uint16_t port_ = 0;
  Socket web_listener_;  // empty when not serving browsers
  std::uint16_t web_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::once_flag stopped_;
  std::unique_ptr<ClusterNode> cluster_;  // null when standalone; outlives the broker thread
  boost::thread accept_thread_;
  boost::thread web_accept_thread_;  // only when serving browsers
  boost::thread broker_thread_;
};

}  // namespace achat
