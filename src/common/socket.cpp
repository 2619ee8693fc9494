#include "achat/socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

namespace achat {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// getaddrinfo's EAI_* codes, so a failed lookup reads "Name or service not known".
class ResolverCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};

const std::error_category& resolver_category() {
  static const ResolverCategory category;
  return category;
}

using AddressList = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

AddressList resolve(const std::string& host, std::uint16_t port, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc == EAI_SYSTEM) throw_errno("resolve " + host);
  if (rc != 0) throw std::system_error(rc, resolver_category(), "resolve " + host);
  return AddressList(found, &::freeaddrinfo);
}

std::optional<std::string> format_address(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    if (!::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text)) return std::nullopt;
    return std::string(text) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    const std::string port = std::to_string(ntohs(v6.sin6_port));
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {  // an IPv4 client of a dual-stack listener
      if (!::inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text, sizeof text)) return std::nullopt;
      return std::string(text) + ":" + port;
    }
    if (!::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text)) return std::nullopt;
    return "[" + std::string(text) + "]:" + port;
  }
  return std::nullopt;
}

bool set_option(int fd, int level, int option, int value) noexcept {
  return ::setsockopt(fd, level, option, &value, sizeof value) == 0;
}

// A socket bound to every interface: IPv6 "::" with IPV6_V6ONLY off, so it accepts IPv4 too,
// or IPv4 "0.0.0.0" if the kernel has no IPv6 at all.
Socket bind_any(std::uint16_t port) {
  sockaddr_in6 any_v6{};
  any_v6.sin6_family = AF_INET6;
  any_v6.sin6_addr = in6addr_any;
  any_v6.sin6_port = htons(port);
  sockaddr_in any_v4{};
  any_v4.sin_family = AF_INET;
  any_v4.sin_addr.s_addr = htonl(INADDR_ANY);
  any_v4.sin_port = htons(port);

  const sockaddr* address = reinterpret_cast<const sockaddr*>(&any_v6);
  socklen_t length = sizeof any_v6;
  Socket socket(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (socket) {
    set_option(socket.fd(), IPPROTO_IPV6, IPV6_V6ONLY, 0);
  } else {
    if (errno != EAFNOSUPPORT) throw_errno("socket");
    socket = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket) throw_errno("socket");
    address = reinterpret_cast<const sockaddr*>(&any_v4);
    length = sizeof any_v4;
  }
  set_option(socket.fd(), SOL_SOCKET, SO_REUSEADDR, 1);
  if (::bind(socket.fd(), address, length) != 0) throw_errno("bind :" + std::to_string(port));
  return socket;
}

// Makes a socket for each address in turn until `use` (a bind or a connect) succeeds on one.
// Throws std::system_error with the errno of the last failure, saying `what` failed.
template <class Use>
Socket first_that_works(const AddressList& addresses, const std::string& what, Use use) {
  int last_error = EADDRNOTAVAIL;
  for (const addrinfo* address = addresses.get(); address; address = address->ai_next) {
    Socket socket(::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC,
                           address->ai_protocol));
    if (socket && use(socket, *address)) return socket;
    last_error = errno;
  }
  throw std::system_error(last_error, std::generic_category(), what);
}

}  // namespace

Socket Socket::connect_to(const Endpoint& endpoint) {
  const AddressList addresses =
      resolve(endpoint.host.empty() ? "localhost" : endpoint.host, endpoint.port, 0);
  const auto connect = [](const Socket& socket, const addrinfo& to) {
    int rc;
    do {
      rc = ::connect(socket.fd(), to.ai_addr, to.ai_addrlen);
    } while (rc != 0 && errno == EINTR);
    return rc == 0;
  };
  Socket socket = first_that_works(addresses, "connect to " + endpoint.to_string(), connect);
  socket.set_no_delay();
  return socket;
}

Socket Socket::listen_on(const Endpoint& endpoint, int backlog) {
  Socket socket;
  if (endpoint.host.empty()) {
    socket = bind_any(endpoint.port);
  } else {
    // The first of the host's addresses that can be bound.
    socket = first_that_works(resolve(endpoint.host, endpoint.port, AI_PASSIVE),
                              "bind " + endpoint.to_string(),
                              [](const Socket& socket, const addrinfo& at) {
                                set_option(socket.fd(), SOL_SOCKET, SO_REUSEADDR, 1);
                                return ::bind(socket.fd(), at.ai_addr, at.ai_addrlen) == 0;
                              });
  }
  if (::listen(socket.fd(), backlog) != 0) throw_errno("listen");
  return socket;
}

std::uint16_t Socket::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw_errno("getsockname");
  }
  // sin_port and sin6_port sit at the same offset, as POSIX arranges for exactly this use.
  return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
}

std::optional<std::string> Socket::local_name() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  return format_address(address);
}

std::optional<std::string> Socket::peer_name() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return std::nullopt;
  return format_address(address);
}

long Socket::receive_some(std::span<char> buffer) const noexcept {
  ssize_t n;
  do {
    n = ::recv(fd(), buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

namespace {

// Waits up to `milliseconds` for `events` (or an error) on `fd`; false if the time ran out.
bool wait_for(int fd, short events, int milliseconds) noexcept {
  pollfd ready{fd, events, 0};
  int n;
  do {
    n = ::poll(&ready, 1, milliseconds);
  } while (n < 0 && errno == EINTR);
  return n != 0;
}

}  // namespace

bool Socket::wait_readable(int milliseconds) const noexcept { return wait_for(fd(), POLLIN, milliseconds); }

bool Socket::send_all_polling(std::string_view bytes, std::chrono::milliseconds stall,
                              std::uint64_t& sends) const noexcept {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ++sends;
    if (sent >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    if (!wait_for(fd(), POLLOUT, static_cast<int>(stall.count()))) {
      errno = EAGAIN;
      return false;
    }
  }
  return true;
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

void Socket::set_no_delay() const noexcept { set_option(fd(), IPPROTO_TCP, TCP_NODELAY, 1); }

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

bool Socket::set_keep_alive(unsigned idle_s, unsigned interval_s, unsigned count) const noexcept {
  return set_option(fd(), SOL_SOCKET, SO_KEEPALIVE, 1) &&
         set_option(fd(), IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(idle_s)) &&
         set_option(fd(), IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(interval_s)) &&
         set_option(fd(), IPPROTO_TCP, TCP_KEEPCNT, static_cast<int>(count));
}

}  // namespace achat
