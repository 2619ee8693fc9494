// Connection: owns one non-blocking TCP socket to the server, the bytes queued for it that the
// kernel has not taken yet, and the unterminated tail of what it has received. Over WebSocket
// (Transport::kWebSocket) it also owns the upgrade and the framing: callers still queue
// '\n'-terminated lines and get lines back, one text frame per line each way.
// Promises: queued lines are written in order, never dropped; every complete line received is
// handed to the caller exactly once, in order, without its '\n'.
#pragma once

#include <netinet/in.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "achat/unique_fd.h"
#include "websocket_frames.h"

namespace achat::load {

enum class Transport { kTcp, kWebSocket };

const char* transport_name(Transport transport) noexcept;

class Connection {
 public:
  // Starts a non-blocking connect (completion is reported by EPOLLOUT, see connect_error()).
  // Over WebSocket the upgrade request is queued first; lines queued before the server accepts
  // it are framed and sent once it has.
  // Throws std::system_error if the socket cannot even be created or the connect fails at once.
  static Connection start_connect(const sockaddr_in& server, Transport transport);

  Connection() = default;

  int fd() const noexcept { return fd_.fd(); }

  // Once the socket reports writable after start_connect(): 0 if connected, else the errno.
  int connect_error() const noexcept;

  // The output buffer; append '\n'-terminated lines to it, then flush().
  std::string& output() noexcept { return websocket_ ? lines_ : out_; }
  bool has_output() const noexcept {
    return out_sent_ < out_.size() || (frames_.open() && !lines_.empty());
  }

  // Writes as much queued output as the kernel takes now. False (errno set) on a broken
  // connection; what is left stays queued and EPOLLOUT (edge-triggered) says when to retry.
  bool flush();

  enum class ReadStatus { kWouldBlock, kClosed, kError };

  // Reads everything the socket has (edge-triggered use), calling on_line(std::string_view) for
  // each complete line. `scratch` is a caller-owned buffer shared by all connections. Returns
  // why reading stopped; on kError error_text() says why. Exceptions from on_line propagate.
  template <class OnLine>
  ReadStatus read_lines(std::span<char> scratch, OnLine&& on_line);

  // Why the last operation failed: errno's text, or the WebSocket protocol error.
  std::string error_text() const;

 private:
  Connection(UniqueFd fd, bool websocket) noexcept : fd_(std::move(fd)), websocket_(websocket) {}

  // read(2) restarted on EINTR.
  long read_some(std::span<char> scratch) noexcept;

  template <class OnLine>
  ReadStatus decode_frames(std::string_view data, OnLine&& on_line);

  // Moves the queued lines into out_, a text frame each (WebSocket, once upgraded).
  void frame_lines();

  UniqueFd fd_;
  bool websocket_ = false;
  std::string out_;
  std::size_t out_sent_ = 0;  // prefix of out_ already written
  std::string partial_;       // received bytes after the last '\n' (TCP)
  std::string lines_;         // lines queued but not framed yet (WebSocket)
  FrameDecoder frames_;       // WebSocket
  int error_ = 0;             // errno of the last failure, or EPROTO
};

template <class OnLine>
Connection::ReadStatus Connection::read_lines(std::span<char> scratch, OnLine&& on_line) {
  while (true) {
    const long n = read_some(scratch);
    if (n == 0) return ReadStatus::kClosed;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::kWouldBlock;
      error_ = errno;
      return ReadStatus::kError;
    }

    std::string_view data(scratch.data(), static_cast<std::size_t>(n));
    if (websocket_) {
      if (const ReadStatus status = decode_frames(data, on_line); status != ReadStatus::kWouldBlock)
        return status;
      if (static_cast<std::size_t>(n) < scratch.size()) return ReadStatus::kWouldBlock;
      continue;
    }
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

template <class OnLine>
Connection::ReadStatus Connection::decode_frames(std::string_view data, OnLine&& on_line) {
  bool to_send = false;
  const auto status = frames_.feed(
      data, [&] { to_send = !lines_.empty(); }, on_line,
      [&](std::string_view ping) {
        append_pong_frame(out_, ping);
        to_send = true;
      });
  if (status == FrameDecoder::Status::kClosed) return ReadStatus::kClosed;
  if (status == FrameDecoder::Status::kBad) {
    error_ = EPROTO;
    return ReadStatus::kError;
  }
  if (to_send && !flush()) return ReadStatus::kError;
  return ReadStatus::kWouldBlock;
}

}  // namespace achat::load
