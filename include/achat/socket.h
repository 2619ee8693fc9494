// Owning TCP socket handle and the few socket calls a-chat makes.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/uio.h>
#include <utility>

#include "achat/unique_fd.h"

namespace achat {

// An IPv4 host and port, as written on the command line ("127.0.0.1:8080").
struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;

  // Parses "HOST:PORT", "HOST" (default port) or ":PORT" (default host). nullopt if malformed.
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;
  sockaddr_in to_sockaddr() const;  // throws std::system_error if the host is not an IPv4 address
};

// Owns one socket and closes it on destruction (through UniqueFd). Move-only. Any thread may call the
// const I/O members concurrently (the kernel orders them); close happens once, in the destructor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}

  int fd() const noexcept { return fd_.fd(); }
  explicit operator bool() const noexcept { return static_cast<bool>(fd_); }

  // Blocking connect; throws std::system_error on failure. Sets TCP_NODELAY.
  static Socket connect_to(const Endpoint& endpoint);
  // Bound and listening; port 0 picks a free port (see local_port()). Throws std::system_error.
  static Socket listen_on(const Endpoint& endpoint, int backlog);

  std::uint16_t local_port() const;
  // "ip:port" of the remote end, or nullopt if the kernel cannot tell (peer already gone).
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

  void shutdown_read() const noexcept;
  void shutdown_write() const noexcept;
  void shutdown_both() const noexcept;
  void set_no_delay() const noexcept;
  // TCP keepalive: first probe after `idle_s` without traffic, then every `interval_s`; the
  // connection fails after `probes` unanswered probes.
  void set_keep_alive(unsigned idle_s, unsigned interval_s, unsigned probes) const noexcept;
  // Bound how long one blocked send / recv may wait; 0 = forever. A recv that times out
  // returns -1 with errno EAGAIN.
  void set_send_timeout_ms(unsigned milliseconds) const noexcept;
  void set_receive_timeout_ms(unsigned milliseconds) const noexcept;

 private:
  UniqueFd fd_;
};

}  // namespace achat
