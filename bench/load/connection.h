// Connection: owns one non-blocking TCP socket to the server, the bytes queued for it that the
// kernel has not taken yet, and the unterminated tail of what it has received.
// Promises: queued bytes are written in order, never dropped; every complete '\n'-terminated
// line received is handed to the caller exactly once, in order, without its '\n'.
#pragma once

#include <netinet/in.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "achat/unique_fd.h"

namespace achat::load {

class Connection {
 public:
  // Starts a non-blocking connect (completion is reported by EPOLLOUT, see connect_error()).
  // Throws std::system_error if the socket cannot even be created or the connect fails at once.
  static Connection start_connect(const sockaddr_in& server);

  Connection() = default;

  int fd() const noexcept { return fd_.fd(); }

  // Once the socket reports writable after start_connect(): 0 if connected, else the errno.
  int connect_error() const noexcept;

  // The output buffer; append to it, then flush().
  std::string& output() noexcept { return out_; }
  bool has_output() const noexcept { return out_sent_ < out_.size(); }

  // Writes as much queued output as the kernel takes now. False (errno set) on a broken
  // connection; what is left stays queued and EPOLLOUT (edge-triggered) says when to retry.
  bool flush() noexcept;

  enum class ReadStatus { kWouldBlock, kClosed, kError };

  // Reads everything the socket has (edge-triggered use), calling on_line(std::string_view) for
  // each complete line. `scratch` is a caller-owned buffer shared by all connections. Returns
  // why reading stopped; on kError errno is set. Exceptions from on_line propagate.
  template <class OnLine>
  ReadStatus read_lines(std::span<char> scratch, OnLine&& on_line);

 private:
  explicit Connection(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

  // read(2) restarted on EINTR.
  long read_some(std::span<char> scratch) noexcept;

  UniqueFd fd_;
  std::string out_;
  std::size_t out_sent_ = 0;  // prefix of out_ already written
  std::string partial_;       // received bytes after the last '\n'
};

template <class OnLine>
Connection::ReadStatus Connection::read_lines(std::span<char> scratch, OnLine&& on_line) {
  while (true) {
    const long n = read_some(scratch);
    if (n == 0) return ReadStatus::kClosed;
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK ? ReadStatus::kWouldBlock : ReadStatus::kError;

    std::string_view data(scratch.data(), static_cast<std::size_t>(n));
    std::size_t newline = data.find('\n');
    if (!partial_.empty() && newline != std::string_view::npos) {
      partial_.append(data.substr(0, newline));
      on_line(std::string_view(partial_));
      partial_.clear();
      data.remove_prefix(newline + 1);
      newline = data.find('\n');
    }
    while (newline != std::string_view::npos) {
      on_line(data.substr(0, newline));
      data.remove_prefix(newline + 1);
      newline = data.find('\n');
    }
    partial_.append(data);
    // A short read means the receive queue is empty now; with edge-triggered epoll the next
    // arrival raises a new edge, so there is no need to spend a read(2) to see EAGAIN.
    if (static_cast<std::size_t>(n) < scratch.size()) return ReadStatus::kWouldBlock;
  }
}

}  // namespace achat::load
