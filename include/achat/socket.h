// Owning TCP socket handle and the few socket calls a-chat makes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/uio.h>
#include <utility>

#include "achat/endpoint.h"
#include "achat/unique_fd.h"

namespace achat {

// Owns one socket and closes it on destruction (through UniqueFd). Move-only. Any thread may call the
// const I/O members concurrently (the kernel orders them); close happens once, in the destructor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}

  int fd() const noexcept { return fd_.fd(); }
  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

  // Resolves the host (getaddrinfo; an empty host means localhost) and tries each address in
  // turn with a blocking connect. Throws std::system_error with the last failure. Sets
  // TCP_NODELAY.
  static Socket connect_to(const Endpoint& endpoint);
  // Bound and listening; port 0 picks a free port (see local_port()). An empty host listens on
  // every interface: IPv6 "::" with IPV6_V6ONLY off, so IPv4 clients connect too (plain IPv4
  // "0.0.0.0" where the kernel has no IPv6). Otherwise binds the first resolved address that
  // works. Throws std::system_error.
  static Socket listen_on(const Endpoint& endpoint, int backlog);

  std::uint16_t local_port() const;
  // The local address as "a.b.c.d:port" or "[v6]:port" (see peer_name), nullopt on failure.
  std::optional<std::string> local_name() const;
  // The remote end as "a.b.c.d:port" for IPv4 (IPv4-mapped IPv6 included) or "[v6]:port" for
  // IPv6; nullopt if the kernel cannot tell (peer already gone).
  std::optional<std::string> peer_name() const;

  // recv() restarted on EINTR: bytes read, 0 on orderly EOF, -1 with errno on error.
  long receive_some(std::span<char> buffer) const noexcept;
  // Waits up to `milliseconds` for input (or end of stream, or an error) to be ready to read;
  // false if the time ran out.
  bool wait_readable(int milliseconds) const noexcept;
  // Writes everything (restarting after partial writes and EINTR) without raising SIGPIPE.
  // False with errno set if the connection failed or a send timeout expired.
  bool send_all(std::string_view bytes) const noexcept;
  bool send_all(std::span<iovec> chunks) const noexcept;
  // The same for a socket in non-blocking mode (a WebSocket connection's, which Asio made so):
  // waits for room with poll(), at most `stall` each time, then fails with errno EAGAIN.
  // Adds to `sends` each send() it made.
  bool send_all_polling(std::string_view bytes, std::chrono::milliseconds stall,
                        std::uint64_t& sends) const noexcept;

  void shutdown_read() const noexcept;
  void shutdown_write() const noexcept;
  void shutdown_both() const noexcept;
  void set_no_delay() const noexcept;
  // Bound how long one blocked send / recv may wait; 0 = forever. A recv that times out
  // returns -1 with errno EAGAIN.
  void set_send_timeout_ms(unsigned milliseconds) const noexcept;
  void set_receive_timeout_ms(unsigned milliseconds) const noexcept;
  // TCP keep-alive (SO_KEEPALIVE): after `idle_s` seconds without traffic the kernel probes
  // every `interval_s` seconds and declares the connection dead after `count` unanswered
  // probes, so a blocked recv/send then fails (ETIMEDOUT). False with errno set if the kernel
  // refused any of the settings.
  bool set_keep_alive(unsigned idle_s, unsigned interval_s, unsigned count) const noexcept;

 private:
  UniqueFd fd_;
};

}  // namespace achat
