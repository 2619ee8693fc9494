// A blocking loopback WebSocket client for in-process tests (RFC 6455, client side), written by
// hand so that it parses what the server sends strictly.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "achat/socket.h"
#include "test_client.h"

namespace achat::testing {

// Owns one connection to the web port, upgraded to WebSocket by its constructor (which throws if
// the server does not answer 101). Owned and used by one test thread; never sleeps: every wait
// is a poll() bounded by a deadline. Promises: every frame it returns was well formed (FIN set,
// RSV clear, unmasked, shortest length encoding); anything else is reported as a test failure
// and ends the reading (nullopt).
class WsTestClient {
 public:
  struct Frame {
    int opcode = 0;
    std::string payload;
  };

  explicit WsTestClient(std::uint16_t web_port);

  // One masked frame (text by default).
  void send(std::string_view payload, int opcode = 0x1) const;
  // Sends `name` as the login, then proves the broker registered it: a message to itself comes
  // back. Fails the test if it does not.
  void login(std::string_view name);
  // The next frame, or nullopt on EOF, deadline or a malformed frame (a test failure).
  std::optional<Frame> read_frame(std::chrono::milliseconds deadline = kDeadline);
  // The next text frame's payload, skipping pongs; nullopt as read_frame, or on another opcode.
  std::optional<std::string> read_text(std::chrono::milliseconds deadline = kDeadline);

 private:
  // Reads until buffer_ holds at least `bytes` bytes; false on EOF or deadline.
  bool fill_to(std::size_t bytes, std::chrono::steady_clock::time_point until);

  Socket socket_;
  std::string buffer_;
};

}  // namespace achat::testing
