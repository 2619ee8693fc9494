#include "test_client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <thread>

namespace achat::testing {

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::yield();
  }
  return true;
}

TestClient::TestClient(std::uint16_t port, int receive_buffer_bytes) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (receive_buffer_bytes > 0) {
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  Endpoint endpoint;
  endpoint.port = port;
  const sockaddr_in address = endpoint.to_sockaddr();
  if (::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("test client cannot connect");
  }
  socket_ = std::move(socket);
}

TestClient TestClient::online(std::uint16_t port, std::string_view name, int receive_buffer_bytes) {
  TestClient client(port, receive_buffer_bytes);
  client.send(std::string(name) + "\n" + std::string(name) + ": ready\n");
  const auto echo = client.read_line();
  EXPECT_EQ(echo, "from " + std::string(name) + ": ready") << "login of " << name;
  return client;
}

void TestClient::send(std::string_view bytes) const {
  if (!socket_.send_all(bytes)) throw std::runtime_error("test client send failed");
}

TestClient::Fill TestClient::fill(std::chrono::steady_clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  if (left.count() <= 0) return Fill::timed_out;
  pollfd ready{socket_.fd(), POLLIN, 0};
  if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return Fill::timed_out;
  char chunk[64 * 1024];
  const long n = socket_.receive_some(chunk);
  if (n <= 0) return Fill::closed;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return Fill::data;
}

std::optional<std::string> TestClient::read_line(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    if (fill(until) != Fill::data) return std::nullopt;
  }
}

bool TestClient::closed_by_server(std::chrono::milliseconds deadline, std::string* skipped) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    switch (fill(until)) {
      case Fill::data:
        continue;
      case Fill::closed:
        if (skipped) *skipped = buffer_;
        return true;
      case Fill::timed_out:
        return false;
    }
  }
}

void TestClient::reset() {
  const linger abort{1, 0};
  ::setsockopt(socket_.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  socket_ = Socket();
}

void expect_bystanders_served(std::uint16_t port) {
  // Fresh names each time: an earlier pair's logins stay taken until their writers finish.
  static int round = 0;
  const std::string a = "by" + std::to_string(round) + "a";
  const std::string b = "by" + std::to_string(round++) + "b";
  auto alice = TestClient::online(port, a);
  auto bob = TestClient::online(port, b);
  alice.send(b + ": still served\n");
  EXPECT_EQ(bob.read_line(), "from " + a + ": still served");
}

}  // namespace achat::testing
