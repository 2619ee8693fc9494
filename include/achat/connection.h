// One client connection: its socket and the little state its reader, writer and the broker share.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "achat/channel.h"
#include "achat/socket.h"

namespace achat {

using ConnectionId = std::uint64_t;

// A line on its way to a client. Immutable and shared: one allocation per message, whatever the
// number of recipients.
using OutboundLine = std::shared_ptr<const std::string>;

// Shared (via shared_ptr) by the connection's reader thread, writer thread, the broker and the
// registry. The socket closes when the last owner lets go. Promises: only the writer thread
// sends on the socket; other threads only shut it down (to wake or cut it) or read `queued_bytes`
// and the login (for an operator's list of who is online).
class Connection {
 public:
  Connection(ConnectionId id, Socket socket, std::string address)
      : id_(id), socket_(std::move(socket)), address_(std::move(address)),
        connected_at_(std::chrono::system_clock::now()) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ConnectionId id() const noexcept { return id_; }
  const Socket& socket() const noexcept { return socket_; }
  const std::string& address() const noexcept { return address_; }
  std::chrono::system_clock::time_point connected_at() const noexcept { return connected_at_; }

  // Set once by the reader when the broker accepts the login; any thread may read it (a small
  // mutex: taken once per login and once per operator query, never per message).
  void set_login(std::string login) {
    std::lock_guard lock(login_mutex_);
    login_ = std::move(login);
  }
  std::string login() const {
    std::lock_guard lock(login_mutex_);
    return login_;
  }

  // Outbound bytes queued for the writer and not yet written: producers add before sending,
  // the writer subtracts after writing. Returns the new total.
  std::int64_t add_queued(std::int64_t bytes) noexcept {
    return queued_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  }
  std::int64_t queued() const noexcept { return queued_bytes_.load(std::memory_order_relaxed); }

 private:
  const ConnectionId id_;
  const Socket socket_;
  const std::string address_;
  const std::chrono::system_clock::time_point connected_at_;
  std::atomic<std::int64_t> queued_bytes_{0};
  mutable std::mutex login_mutex_;
  std::string login_;  // empty until online
};

// Queues `lines` on a writer's channel with one wake-up, accounting their `bytes` to
// `connection` (before they are visible to the writer, which subtracts them). Moves from them.
inline bool enqueue_lines(Sender<OutboundLine>& outbox, Connection& connection,
                          std::span<OutboundLine> lines, std::int64_t bytes) {
  connection.add_queued(bytes);
  if (outbox.send_bulk(lines)) return true;
  connection.add_queued(-bytes);
  return false;
}

inline bool enqueue_line(Sender<OutboundLine>& outbox, Connection& connection, OutboundLine line) {
  const auto bytes = static_cast<std::int64_t>(line->size());
  return enqueue_lines(outbox, connection, std::span<OutboundLine>(&line, 1), bytes);
}

}  // namespace achat
