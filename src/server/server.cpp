#include "server_impl.h"

#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "broker.h"
#include "end_notice.h"
#include "fd_reserve.h"
#include "inbox_stream.h"
#include "ops/futex_hash.h"
#include "ops/process_limits.h"
#include "achat/login_name.h"
#include "achat/protocol.h"
#include "reader.h"
#include "run_or_terminate.h"
#include "ops/thread_name.h"
#include "web/web_session.h"
#include "writer.h"

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

// The server-wide queue budget: as configured, or a quarter of physical memory, at most 4 GiB.
std::int64_t queue_budget(const Limits& limits) {
  if (limits.max_queued_bytes != 0) return static_cast<std::int64_t>(limits.max_queued_bytes);
  constexpr std::int64_t kCeiling = std::int64_t{4} << 30;
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return kCeiling;
  return std::min(kCeiling, static_cast<std::int64_t>(pages) * page_size / 4);
}

// A library user's Limits with max_clients 0 get what main's get: sized to the process.
ServerConfig sized_to_process(ServerConfig config) {
  if (config.limits.max_clients == 0) {
    fit_to_process_limits(config.limits, config.web.listen ? kWebClientFds : 1);
  }
  return config;
}

// Set once on a listener rather than on each connection (five system calls fewer per
// connection, bench/RESULTS.md "Churn"): Linux gives an accepted socket its listener's socket
// options, these included (kernel_tuning_test checks the accepted sockets themselves). The send
// timeout is what bounds a TCP writer's blocking send(): the write-stall deadline.
void set_connection_options(const Socket& listener, const Limits& limits) {
  listener.set_no_delay();
  listener.set_send_timeout_ms(limits.write_stall_ms);
  listener.set_keep_alive(limits.keepalive_idle_s, limits.keepalive_interval_s, limits.keepalive_probes);
}

}  // namespace

Server::Impl::Impl(ServerConfig config)
    : config_(sized_to_process(std::move(config))),
      registry_(queue_budget(config_.limits)),
      crew_(config_.limits.thread_stack_bytes, config_.limits.thread_cache),
      prestarted_threads_(prestart_threads()),
      refuser_(refusal_fd_budget(config_.limits.max_clients, Refuser::kMaxLingering),
               stats_.refusals_closed_at_once),
      listener_(Socket::listen_on(config_.endpoint, config_.listen_backlog)),
      port_(listener_.local_port()) {
  set_connection_options(listener_, config_.limits);
  if (config_.web.listen) {
    web_listener_ = Socket::listen_on(*config_.web.listen, config_.listen_backlog);
    web_port_ = web_listener_.local_port();
    set_connection_options(web_listener_, config_.limits);
  }
}

Server::Impl::~Impl() { stop(); }

void Server::Impl::start() {
  load_login_rule();  // ICU's data, before any reader needs it
  // Every writer sleeps on its outbox's condition variable, a futex of its own; a reader held by
  // flow control waits on its connection's unrouted-bytes atomic, another. Readers blocked in
  // recv() use none. The hash is sized for both at once, the worst case.
  constexpr std::size_t kUnsizedSleepers = 32'768;
  const std::size_t clients = config_.limits.max_clients;
  if (const std::size_t buckets = size_futex_hash(clients ? 2 * clients : kUnsizedSleepers)) {
    spdlog::info("futex hash: {} buckets", buckets);
  }
  auto [inbox, inbox_receiver] =
      make_channel<BrokerEvent>(inbox_options(std::chrono::microseconds(config_.limits.broker_spin_us)));
  auto [reaper, reaper_receiver] = make_channel<WriterDone>(inbox_options(std::chrono::nanoseconds(0)));
  std::unique_ptr<ClusterRoutes> routes;
  if (config_.cluster.enabled()) {
    cluster_ = join_cluster(config_.cluster, inbox);
    routes = cluster_->routes();
  }
  broker_thread_ = boost::thread(
      [broker = Broker(std::move(inbox_receiver), std::move(reaper_receiver), config_.limits,
                       stats_, registry_.budget(), std::move(routes), config_.faults)]() mutable {
        name_this_thread("broker");
        run_or_terminate("broker", [&] { broker.run(); });
      });
  if (web_listener_) {
    web_accept_thread_ = boost::thread([this, inbox = inbox, reaper = reaper]() mutable {
      name_this_thread("web-accept");
      run_or_terminate("web-accept", [&] {
        accept_loop(web_listener_, Transport::web, std::move(inbox), std::move(reaper));
      });
    });
    spdlog::info("serving the web page and WebSocket on {}",
                 web_listener_.local_name().value_or(std::to_string(web_port_)));
  }
  accept_thread_ = boost::thread(
      [this, inbox = std::move(inbox), reaper = std::move(reaper)]() mutable {
        name_this_thread("accept");
        run_or_terminate("accept", [&] {
          accept_loop(listener_, Transport::tcp, std::move(inbox), std::move(reaper));
        });
      });
  spdlog::info("listening on {}", listener_.local_name().value_or(config_.endpoint.host + ":" + std::to_string(port_)));
}

void Server::Impl::stop() {
  std::call_once(stopped_, [this] {
    stopping_.store(true, std::memory_order_release);
    listener_.shutdown_read();  // wakes accept(); the accept thread then drops its senders
    if (web_listener_) web_listener_.shutdown_read();
    if (accept_thread_.joinable()) accept_thread_.join();
    if (web_accept_thread_.joinable()) web_accept_thread_.join();
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

// Limits::thread_prestart, at most two per client, so the peak thread count --max-clients was
// sized for still holds. Returns how many were started.
std::size_t Server::Impl::prestart_threads() {
  const Limits& limits = config_.limits;
  const std::size_t wanted = std::min({limits.thread_prestart, limits.thread_cache, 2 * limits.max_clients});
  if (wanted == 0) return 0;
  const auto started = std::chrono::steady_clock::now();
  try {
    crew_.prestart(wanted);
  } catch (const boost::thread_resource_error& error) {
    spdlog::warn("thread cache: {} of {} threads started: {}", crew_.counts().created, wanted, error.what());
    return crew_.counts().created;
  }
  spdlog::info("thread cache: {} threads started and parked in {} ms", wanted,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return wanted;
}

void Server::Impl::accept_loop(const Socket& listener, Transport transport,
                               Sender<BrokerEvent> inbox, Sender<WriterDone> reaper) {
  while (true) {
    Socket accepted(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    const auto accepted_at = std::chrono::steady_clock::now();
    if (stopping_.load(std::memory_order_acquire)) return;  // closes anything just accepted
    if (!accepted) {
      const int error = errno;  // before logging can change it
      if (error == EINTR || error == ECONNABORTED) continue;
      spdlog::error("accept failed: {}", std::strerror(error));
      if (out_of_descriptors(error)) pause_accepting();
      continue;
    }
    try {
      serve(std::move(accepted), transport, accepted_at, inbox, reaper);
    } catch (const std::exception& error) {
      spdlog::error("serving a new connection failed: {}", error.what());
    } catch (...) {
      spdlog::error("serving a new connection failed: unknown exception");
    }
  }
}

void Server::Impl::serve(Socket socket, Transport transport,
                         std::chrono::steady_clock::time_point accepted_at,
                   const Sender<BrokerEvent>& inbox, const Sender<WriterDone>& reaper) {
  Stats::add(stats_.connections_accepted);
  Stats::add(transport == Transport::web ? stats_.web_connections_accepted
                                         : stats_.tcp_connections_accepted);
  auto address = socket.peer_name();
  if (!address) {
    spdlog::info("connection closed before its address could be read");
    return;
  }
  const Limits& limits = config_.limits;
  auto connection = registry_.open(socket, *address, limits.max_clients, transport);
  if (!connection) {
    Stats::add(stats_.connections_refused);
    // A browser gets no chat line before its upgrade: its connection just closes.
    if (transport == Transport::tcp) refuser_.refuse(std::move(socket), "server full");
    spdlog::warn("{}: refused, server full ({} clients)", *address, limits.max_clients);
    return;
  }
  spdlog::info("{}: connected", *address);
  // A browser's reader and writer read and write through its WebSocket session.
  std::shared_ptr<web::WebSession> web_session;
  if (transport == Transport::web) web_session = web::WebSession::open(connection, config_.web, limits, stats_, config_.faults);
  auto [outbox, outbox_receiver] = make_outbox();
  try {
    crew_.spawn("writer", WriterTask{connection, std::move(outbox_receiver),
                                     EndNotice<WriterDone>(reaper, WriterDone{connection->id()}),
                                     stats_, limits.write_stall_ms, config_.faults, web_session});
  } catch (const boost::thread_resource_error& error) {
    Stats::add(stats_.connections_refused);
    if (web_session) {
      spdlog::warn("{}: refused, cannot start a writer thread: {}", *address, error.what());
      return;
    }
    // The refuser closes its own descriptor of the socket; this one closes with `connection`.
    refuser_.refuse(Socket(::fcntl(connection->socket().fd(), F_DUPFD_CLOEXEC, 0)), "server full");
    spdlog::warn("{}: refused, cannot start a writer thread: {}", *address, error.what());
    return;
  }
  try {
    ReaderTask reader{connection, InboxStream(inbox, connection->id(), stopping_),
                      outbox,     limits, stats_, stopping_, accepted_at, cluster_.get(), config_.faults,
                      web_session};
    if (web_session) {
      crew_.spawn("reader", web::WebReaderTask{std::move(reader), web_session});
    } else {
      crew_.spawn("reader", std::move(reader));
    }
  } catch (const boost::thread_resource_error& error) {
    if (web_session) {  // no reader runs the session's io_context: the writer must not wait
      web_session->abandon();
      Stats::add(stats_.connections_refused);
      spdlog::warn("{}: refused, cannot start a reader thread: {}", *address, error.what());
      return;
    }
    // The writer, the only sender on the socket, delivers the refusal and closes gracefully
    // once this last handle on its channel is gone.
    Stats::add(stats_.connections_refused);
    auto refusal = std::make_shared<const std::string>(format_error("server full"));
    const std::int64_t cost = queued_cost(*refusal);
    enqueue_lines(outbox, *connection, std::span<OutboundLine>(&refusal, 1), cost, cost);
    spdlog::warn("{}: refused, cannot start a reader thread: {}", *address, error.what());
  }
}

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;
std::uint16_t Server::port() const { return impl_->port(); }
std::uint16_t Server::web_port() const { return impl_->web_port(); }
void Server::start() { impl_->start(); }
void Server::stop() { impl_->stop(); }
const Stats& Server::stats() const { return impl_->stats(); }
Stats& Server::stats() { return impl_->stats(); }
std::size_t Server::connections() const { return impl_->connections(); }
std::size_t Server::threads() const { return impl_->threads(); }
ThreadCounts Server::thread_counts() const { return impl_->thread_counts(); }
std::int64_t Server::queued_bytes() const { return impl_->queued_bytes(); }
std::int64_t Server::queued_bytes_budget() const { return impl_->queued_bytes_budget(); }
const Registry& Server::registry() const { return impl_->registry(); }
const ClusterNode* Server::cluster() const { return impl_->cluster(); }

}  // namespace achat
