// One client connection: its socket and the little state its reader, writer and the broker share.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "achat/outbox.h"
#include "achat/queue_budget.h"
#include "achat/socket.h"

namespace achat {

using ConnectionId = std::uint64_t;

// How a client reaches the server: the chat port's line protocol, or a WebSocket on the
// --web-listen port.
enum class Transport : std::uint8_t { tcp, web };

// What a queued line costs in memory, as the caps count it: its bytes, plus its slot in the
// writer's queue and its share of the shared_ptr control block and string header. A line
// shared by several recipients is counted in full for each, which over-counts and so keeps
// every bound.
// Measured per line: its slot in the outbox (16 bytes, 17 with its share of a segment), one
// 64-byte allocation (control block and std::string), and malloc's headers on it and on the
// text; rounded up to cover allocator size classes. What the outbox holds beyond that (a partly
// filled segment, a spare) is bounded per connection: see README, "Worst-case memory".
inline constexpr std::int64_t kQueuedLineOverhead = 128;
inline std::int64_t queued_cost(const std::string& line) noexcept {
  return static_cast<std::int64_t>(line.size()) + kQueuedLineOverhead;
}

// Shared (via shared_ptr) by the connection's reader thread, writer thread, the broker and the
// registry. The socket closes when the last owner lets go. Promises: only the writer thread
// sends on the socket (a WebSocket's writer posts its writes to the one io_context its reader
// thread runs, see src/web/web_session.h, which also answers HTTP and pings); other threads only shut it down (to wake or cut it), account bytes, or
// read the counters, the login and the end reason (for logs and an operator's list of who is
// online).
class Connection {
 public:
  Connection(ConnectionId id, Socket socket, std::string address, QueueBudget& budget,
             Transport transport = Transport::tcp)
      : id_(id), socket_(std::move(socket)), address_(std::move(address)),
        connected_at_(std::chrono::system_clock::now()), budget_(budget), transport_(transport) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ConnectionId id() const noexcept { return id_; }
  const Socket& socket() const noexcept { return socket_; }
  const std::string& address() const noexcept { return address_; }
  std::chrono::system_clock::time_point connected_at() const noexcept { return connected_at_; }
  Transport transport() const noexcept { return transport_; }

  // Set once by the reader when the broker accepts the login.
  void set_login(std::string login) {
    std::lock_guard lock(mutex_);
    login_ = std::move(login);
  }
  std::string login() const {
    std::lock_guard lock(mutex_);
    return login_;
  }

  // Cost (see queued_cost) of the lines queued for the writer and not yet written, and the part
  // of it that is error replies. Whoever queues adds before the writer can see the lines; the
  // writer subtracts after writing (or discarding) them. The server-wide budget moves with them.
  void add_queued(std::int64_t cost, std::int64_t error_cost) noexcept {
    queued_.fetch_add(cost, std::memory_order_relaxed);
    if (error_cost != 0) queued_errors_.fetch_add(error_cost, std::memory_order_relaxed);
    budget_.add(cost);
  }
  std::int64_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }
  std::int64_t queued_errors() const noexcept {
    return queued_errors_.load(std::memory_order_relaxed);
  }

  // Flow control between this connection's reader and the broker: the bytes of events the
  // reader has handed over and the broker has not yet handled. The reader blocks (and so stops
  // reading its socket) while that would exceed `limit`, unless nothing is outstanding.
  void wait_to_hand_over(std::int32_t bytes, std::int32_t limit) noexcept {
    std::int32_t outstanding = unrouted_.load(std::memory_order_acquire);
    while (outstanding > 0 && outstanding + bytes > limit) {
      unrouted_.wait(outstanding, std::memory_order_acquire);
      outstanding = unrouted_.load(std::memory_order_acquire);
    }
    unrouted_.fetch_add(bytes, std::memory_order_acq_rel);
  }
  // Called by the broker once it has handled `bytes` of this reader's events.
  void routed(std::int32_t bytes) noexcept {
    unrouted_.fetch_sub(bytes, std::memory_order_acq_rel);
    unrouted_.notify_one();
  }

  // Records why the connection ends; the first reason recorded wins and is the one its single
  // disconnect log line gives. True if this call's reason was recorded.
  bool end_with(std::string reason) {
    std::lock_guard lock(mutex_);
    if (!end_reason_.empty()) return false;
    end_reason_ = std::move(reason);
    return true;
  }
  std::string end_reason() const {  // empty if none was recorded
    std::lock_guard lock(mutex_);
    return end_reason_;
  }

 private:
  const ConnectionId id_;
  const Socket socket_;
  const std::string address_;
  const std::chrono::system_clock::time_point connected_at_;
  QueueBudget& budget_;
  const Transport transport_;
  std::atomic<std::int64_t> queued_{0};
  std::atomic<std::int64_t> queued_errors_{0};
  std::atomic<std::int32_t> unrouted_{0};
  mutable std::mutex mutex_;  // taken once per login, per end and per operator query
  std::string login_;         // empty until online
  std::string end_reason_;
};

// Queues `lines` in a writer's outbox with one wake-up, accounting their `cost` (and the
// `error_cost` part of it) to `connection` before the writer can see them. Moves from them.
inline bool enqueue_lines(OutboxSender& outbox, Connection& connection,
                          std::span<OutboundLine> lines, std::int64_t cost,
                          std::int64_t error_cost) {
  connection.add_queued(cost, error_cost);
  if (outbox.send_bulk(lines)) return true;
  connection.add_queued(-cost, -error_cost);
  return false;
}

}  // namespace achat
