#include "achat/server.h"

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>

#include "achat/broker.h"
#include "achat/protocol.h"
#include "achat/reader.h"
#include "achat/writer.h"

namespace achat {

namespace {

bool out_of_descriptors(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

// accept() keeps failing while the process is out of fds; pausing briefly lets connections
// close instead of spinning a core on the same error.
void pause_accepting() {
  const timespec pause{0, 50'000'000};
  nanosleep(&pause, nullptr);
}

}  // namespace

Server::Server(ServerConfig config)
    : config_(std::move(config)),
      crew_(config_.limits.thread_stack_bytes),
      listener_(Socket::listen_on(config_.endpoint, config_.listen_backlog)),
      port_(listener_.local_port()) {}

Server::~Server() { stop(); }

void Server::start() {
  auto [inbox, inbox_receiver] = make_channel<BrokerEvent>(kChannelInitialCapacity,
                                                             static_cast<int>(config_.limits.broker_spins));
  auto [reaper, reaper_receiver] = make_channel<WriterDone>();
  std::unique_ptr<ClusterRoutes> routes;
  if (config_.cluster.enabled()) {
    cluster_ = join_cluster(config_.cluster, inbox);
    routes = cluster_->routes();
  }
  broker_thread_ = boost::thread(
      [this, broker = Broker(std::move(inbox_receiver), std::move(reaper_receiver), config_.limits,
                             stats_, std::move(routes))]() mutable { broker.run(); });
  accept_thread_ = boost::thread(
      [this, inbox = std::move(inbox), reaper = std::move(reaper)]() mutable {
        accept_loop(std::move(inbox), std::move(reaper));
      });
  spdlog::info("listening on {}:{}", config_.endpoint.host, port_);
}

void Server::stop() {
  std::call_once(stopped_, [this] {
    stopping_.store(true, std::memory_order_release);
    listener_.shutdown_read();  // wakes accept(); the accept thread then drops its senders
    if (accept_thread_.joinable()) accept_thread_.join();
    registry_.shutdown_reads();  // every reader sees end of stream; their streams end
    if (cluster_) cluster_->stop_receiving();  // other nodes' lines and claims stop too
    if (broker_thread_.joinable()) {
      const auto deadline = boost::chrono::milliseconds(config_.limits.drain_timeout_ms);
      if (!broker_thread_.try_join_for(deadline)) {
        spdlog::warn("drain timeout: cutting {} connections still writing", registry_.size());
        registry_.cut_all();
        broker_thread_.join();
      }
    }
    crew_.join_all();
    cluster_.reset();  // releases this node's logins
    spdlog::info("stopped: {}", stats_.summary());
  });
}

void Server::accept_loop(Sender<BrokerEvent> inbox, Sender<WriterDone> reaper) {
  while (true) {
    Socket accepted(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (stopping_.load(std::memory_order_acquire)) return;  // closes anything just accepted
    if (!accepted) {
      const int error = errno;  // before logging can change it
      if (error == EINTR || error == ECONNABORTED) continue;
      spdlog::error("accept failed: {}", std::strerror(error));
      if (out_of_descriptors(error)) pause_accepting();
      continue;
    }
    try {
      serve(std::move(accepted), inbox, reaper);
    } catch (const std::exception& error) {
      spdlog::error("serving a new connection failed: {}", error.what());
    }
  }
}

void Server::serve(Socket socket, const Sender<BrokerEvent>& inbox,
                   const Sender<WriterDone>& reaper) {
  Stats::add(stats_.connections_accepted);
  auto address = socket.peer_name();
  if (!address) {
    spdlog::info("connection closed before its address could be read");
    return;
  }
  socket.set_no_delay();
  socket.set_send_timeout_ms(config_.limits.send_timeout_ms);
  auto connection = registry_.open(socket, *address, config_.limits.max_clients);
  if (!connection) {
    refuse(socket, "server full");
    spdlog::warn("{}: refused, server full ({} clients)", *address, config_.limits.max_clients);
    return;
  }
  spdlog::info("{}: connected", *address);
  auto [outbox, outbox_receiver] = make_channel<OutboundLine>();
  try {
    crew_.spawn("writer", WriterTask{connection, std::move(outbox_receiver), reaper, stats_});
  } catch (const boost::thread_resource_error& error) {
    refuse(connection->socket(), "server full");
    spdlog::warn("{}: refused, cannot start a writer thread: {}", *address, error.what());
    return;
  }
  try {
    crew_.spawn("reader", ReaderTask{connection, inbox, outbox, config_.limits, stats_, stopping_,
                                     cluster_.get()});
  } catch (const boost::thread_resource_error& error) {
    Stats::add(stats_.connections_refused);
    enqueue_line(outbox, *connection, std::make_shared<const std::string>(format_error("server full")));
    spdlog::warn("{}: refused, cannot start a reader thread: {}", *address, error.what());
  }
}

// For a connection that has no writer thread, so nothing else can be writing to it.
void Server::refuse(const Socket& socket, std::string_view why) {
  Stats::add(stats_.connections_refused);
  socket.send_all(format_error(why));
  socket.shutdown_write();
}

}  // namespace achat
