#include "connection.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace achat::load {

const char* transport_name(Transport transport) noexcept {
  return transport == Transport::kWebSocket ? "ws" : "tcp";
}

Connection Connection::start_connect(const sockaddr_in& server, Transport transport) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
  const int one = 1;
  ::setsockopt(fd.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd.fd(), reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0 &&
      errno != EINPROGRESS) {
    throw std::system_error(errno, std::generic_category(), "connect");
  }
  Connection connection(std::move(fd), transport == Transport::kWebSocket);
  if (connection.websocket_) {
    char address[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &server.sin_addr, address, sizeof address);
    append_upgrade_request(connection.out_,
                           std::string(address) + ":" + std::to_string(ntohs(server.sin_port)));
  }
  return connection;
}

std::string Connection::error_text() const {
  if (error_ == EPROTO && websocket_ && !frames_.why().empty()) return frames_.why();
  return std::strerror(error_);
}

void Connection::frame_lines() {
  std::string_view lines = lines_;
  for (std::size_t newline = lines.find('\n'); newline != std::string_view::npos;
       newline = lines.find('\n')) {
    append_text_frame(out_, lines.substr(0, newline));
    lines.remove_prefix(newline + 1);
  }
  lines_.erase(0, lines_.size() - lines.size());
}

int Connection::connect_error() const noexcept {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd_.fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

bool Connection::flush() {
  if (websocket_ && frames_.open() && !lines_.empty()) frame_lines();
  while (out_sent_ < out_.size()) {
    const ssize_t n =
        ::send(fd_.fd(), out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        error_ = errno;
        return false;
      }
      // The peer is slow: drop what was written so a backlog does not grow without bound.
      if (out_sent_ > out_.size() / 2) {
        out_.erase(0, out_sent_);
        out_sent_ = 0;
      }
      return true;
    }
    out_sent_ += static_cast<std::size_t>(n);
  }
  out_.clear();  // keeps its capacity: the next message is formatted without allocating
  out_sent_ = 0;
  return true;
}

long Connection::read_some(std::span<char> scratch) noexcept {
  while (true) {
    const ssize_t n = ::read(fd_.fd(), scratch.data(), scratch.size());
    if (n >= 0 || errno != EINTR) return static_cast<long>(n);
  }
}

}  // namespace achat::load
