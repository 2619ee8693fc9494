// A blocking loopback client for tests: sends raw bytes and reads lines with deadlines.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "achat/socket.h"

namespace achat::testing {

using namespace std::chrono_literals;

inline constexpr std::chrono::milliseconds kDeadline = 10s;

// What a bystander must still get while someone misbehaves: two fresh clients on `port` log in
// and one's line reaches the other (a gtest expectation).
void expect_bystanders_served(std::uint16_t port);

// Polls `condition` until it holds or the deadline passes; for state with no event to wait on
// (such as a server's connection count). Yields between polls, never sleeps.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = kDeadline);

// Owned and used by one test thread. Never sleeps: every wait is a poll() bounded by a deadline.
class TestClient {
 public:
  explicit TestClient(std::uint16_t port, int receive_buffer_bytes = 0);

  // Connects, sends `name` as the login, then proves the broker registered it: a message to
  // itself comes back. Fails the test if it does not. A small receive buffer makes a client
  // whose backlog fills quickly (one that "never reads").
  static TestClient online(std::uint16_t port, std::string_view name, int receive_buffer_bytes = 0);

  void send(std::string_view bytes) const;
  // The next line without its "\n", or nullopt on EOF, reset or deadline.
  std::optional<std::string> read_line(std::chrono::milliseconds deadline = kDeadline);
  // True if the server closed the connection (EOF or reset) before the deadline; lines that
  // arrive first are skipped and returned through `skipped` if given.
  bool closed_by_server(std::chrono::milliseconds deadline = kDeadline, std::string* skipped = nullptr);
  void shutdown_write() const { socket_.shutdown_write(); }
  // Closes with SO_LINGER 0, so the server sees a reset.
  void reset();
  const Socket& socket() const { return socket_; }

 private:
  enum class Fill { data, closed, timed_out };
  Fill fill(std::chrono::steady_clock::time_point until);

  Socket socket_;
  std::string buffer_;
};

}  // namespace achat::testing
