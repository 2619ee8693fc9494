#include "achat/socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace achat {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  Endpoint endpoint;
  const auto colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? text : text.substr(0, colon);
  if (!host.empty()) endpoint.host = std::string(host);
  if (colon != std::string_view::npos) {
    std::string_view port = text.substr(colon + 1);
    unsigned value = 0;
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value > 65535) {
      return std::nullopt;
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  in_addr probe{};
  if (inet_pton(AF_INET, endpoint.host.c_str(), &probe) != 1) return std::nullopt;
  return endpoint;
}

std::string Endpoint::to_string() const { return host + ":" + std::to_string(port); }

sockaddr_in Endpoint::to_sockaddr() const {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw std::system_error(EINVAL, std::generic_category(), "not an IPv4 address: " + host);
  }
  return address;
}

Socket Socket::connect_to(const Endpoint& endpoint) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) throw_errno("socket");
  const sockaddr_in address = endpoint.to_sockaddr();
  int rc;
  do {
    rc = ::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) throw_errno("connect to " + endpoint.to_string());
  socket.set_no_delay();
  return socket;
}

Socket Socket::listen_on(const Endpoint& endpoint, int backlog) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket) throw_errno("socket");
  const int one = 1;
  ::setsockopt(socket.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in address = endpoint.to_sockaddr();
  if (::bind(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw_errno("bind " + endpoint.to_string());
  }
  if (::listen(socket.fd(), backlog) != 0) throw_errno("listen");
  return socket;
}

std::uint16_t Socket::local_port() const {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw_errno("getsockname");
  }
  return ntohs(address.sin_port);
}

std::optional<std::string> Socket::peer_name() const {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  char text[INET_ADDRSTRLEN] = {};
  if (!::inet_ntop(AF_INET, &address.sin_addr, text, sizeof text)) return std::nullopt;
  return std::string(text) + ":" + std::to_string(ntohs(address.sin_port));
}

long Socket::receive_some(std::span<char> buffer) const noexcept {
  ssize_t n;
  do {
    n = ::recv(fd(), buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

bool Socket::wait_readable(int milliseconds) const noexcept {
  pollfd ready{fd(), POLLIN, 0};
  int n;
  do {
    n = ::poll(&ready, 1, milliseconds);
  } while (n < 0 && errno == EINTR);
  return n != 0;
}

bool Socket::send_all(std::string_view bytes) const noexcept {
  iovec chunk{const_cast<char*>(bytes.data()), bytes.size()};
  return send_all(std::span<iovec>(&chunk, 1));
}

bool Socket::send_all(std::span<iovec> chunks) const noexcept {
  while (!chunks.empty()) {
    msghdr message{};
    message.msg_iov = chunks.data();
    message.msg_iovlen = chunks.size();
    ssize_t sent = ::sendmsg(fd(), &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    auto remaining = static_cast<std::size_t>(sent);
    while (!chunks.empty() && remaining >= chunks.front().iov_len) {
      remaining -= chunks.front().iov_len;
      chunks = chunks.subspan(1);
    }
    if (remaining > 0) {
      chunks.front().iov_base = static_cast<char*>(chunks.front().iov_base) + remaining;
      chunks.front().iov_len -= remaining;
    }
  }
  return true;
}

void Socket::shutdown_read() const noexcept { ::shutdown(fd(), SHUT_RD); }
void Socket::shutdown_write() const noexcept { ::shutdown(fd(), SHUT_WR); }
void Socket::shutdown_both() const noexcept { ::shutdown(fd(), SHUT_RDWR); }

void Socket::set_no_delay() const noexcept {
  const int one = 1;
  ::setsockopt(fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void Socket::set_keep_alive(unsigned idle_s, unsigned interval_s, unsigned probes) const noexcept {
  const int on = 1;
  const int idle = static_cast<int>(idle_s);
  const int interval = static_cast<int>(interval_s);
  const int count = static_cast<int>(probes);
  ::setsockopt(fd(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

namespace {

void set_timeout(int fd, int option, unsigned milliseconds) {
  timeval timeout{};
  timeout.tv_sec = milliseconds / 1000;
  timeout.tv_usec = static_cast<suseconds_t>((milliseconds % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, option, &timeout, sizeof timeout);
}

}  // namespace

void Socket::set_send_timeout_ms(unsigned milliseconds) const noexcept {
  set_timeout(fd(), SO_SNDTIMEO, milliseconds);
}

void Socket::set_receive_timeout_ms(unsigned milliseconds) const noexcept {
  set_timeout(fd(), SO_RCVTIMEO, milliseconds);
}

}  // namespace achat
