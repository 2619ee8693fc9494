// The load generator's side of RFC 6455, just enough to load a-chat's /ws endpoint like a
// browser does: the upgrade request, one masked text frame per protocol line out, and a decoder
// of what the server sends back. Used by one Connection, on the load generator's one thread.
// The masking key is all zeros: legal (the server cannot tell), and it leaves the XOR a browser
// pays out of the measurement of the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace achat::load {

// Appends the HTTP upgrade request for GET /ws on `host` (HOST:PORT, for the Host header).
// Sends no Origin header, as a non-browser client, which the server accepts.
void append_upgrade_request(std::string& out, std::string_view host);

// Appends `line` (without its '\n') as one masked, unfragmented text frame.
void append_text_frame(std::string& out, std::string_view line);

// Appends a masked pong frame answering a ping with `payload`.
void append_pong_frame(std::string& out, std::string_view payload);

// Owns the bytes received but not yet decoded and a fragmented message so far. First expects
// the server's "101 Switching Protocols" response, then frames (unmasked, as RFC 6455 requires
// of a server). Promises: every complete text message is handed to on_text once, in order.
class FrameDecoder {
 public:
  enum class Status { kMore, kClosed, kBad };

  bool open() const noexcept { return open_; }

  // Decodes `data`: on_open() once the upgrade succeeded, on_text(std::string_view) per text
  // message, on_ping(std::string_view payload) per ping. kClosed on a close frame; kBad (with
  // why()) on a refused upgrade or a protocol error; kMore otherwise.
  template <class OnOpen, class OnText, class OnPing>
  Status feed(std::string_view data, OnOpen&& on_open, OnText&& on_text, OnPing&& on_ping);

  const std::string& why() const noexcept { return why_; }

 private:
  enum class Opcode : std::uint8_t { kContinuation = 0, kText = 1, kClose = 8, kPing = 9, kPong = 10 };

  // The length of the upgrade response at the start of `input` (0: incomplete); sets why_ and
  // returns npos if it is not a 101.
  std::size_t upgrade_response_length(std::string_view input);

  bool open_ = false;
  std::string buffer_;   // received bytes not decoded yet
  std::string message_;  // fragments of a text message so far
  std::string why_;
};

template <class OnOpen, class OnText, class OnPing>
FrameDecoder::Status FrameDecoder::feed(std::string_view data, OnOpen&& on_open, OnText&& on_text,
                                        OnPing&& on_ping) {
  std::string_view input = data;
  if (!buffer_.empty()) {
    buffer_.append(data);
    input = buffer_;
  }
  std::size_t used = 0;
  Status status = Status::kMore;
  if (!open_) {
    const std::size_t length = upgrade_response_length(input);
    if (length == std::string_view::npos) return Status::kBad;
    if (length > 0) {
      open_ = true;
      used = length;
      on_open();
    }
  }
  while (open_ && status == Status::kMore) {
    const std::string_view rest = input.substr(used);
    if (rest.size() < 2) break;
    const auto first = static_cast<std::uint8_t>(rest[0]);
    const auto second = static_cast<std::uint8_t>(rest[1]);
    if ((second & 0x80) != 0 || (first & 0x70) != 0) {
      why_ = "the server sent a masked frame or set RSV bits";
      return Status::kBad;
    }
    std::size_t header = 2;
    std::uint64_t length = second & 0x7f;
    if (length >= 126) {
      const std::size_t bytes = length == 126 ? 2 : 8;
      if (rest.size() < 2 + bytes) break;
      length = 0;
      for (std::size_t i = 0; i < bytes; ++i) length = length << 8 | static_cast<std::uint8_t>(rest[2 + i]);
      header += bytes;
    }
    if (rest.size() - header < length) break;
    const std::string_view payload = rest.substr(header, static_cast<std::size_t>(length));
    used += header + payload.size();
    const bool final_fragment = (first & 0x80) != 0;
    switch (static_cast<Opcode>(first & 0x0f)) {
      case Opcode::kText:
      case Opcode::kContinuation:
        if (final_fragment && message_.empty()) {
          on_text(payload);
        } else {
          message_.append(payload);
          if (final_fragment) {
            on_text(std::string_view(message_));
            message_.clear();
          }
        }
        break;
      case Opcode::kPing:
        on_ping(payload);
        break;
      case Opcode::kPong:
        break;
      case Opcode::kClose:
        status = Status::kClosed;
        break;
      default:
        why_ = "the server sent a frame with opcode " + std::to_string(first & 0x0f);
        return Status::kBad;
    }
  }
  if (buffer_.empty()) {
    buffer_.assign(input.substr(used));
  } else {
    buffer_.erase(0, used);
  }
  return status;
}

}  // namespace achat::load
