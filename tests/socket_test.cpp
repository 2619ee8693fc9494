// Unit tests of the socket calls over real loopback sockets (include/achat/socket.h): each
// address form, peer names, keep-alive, sending on a non-blocking socket.
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "achat/socket.h"

namespace achat {
namespace {

bool has_ipv6_loopback() {
  try {
    Socket::listen_on(Endpoint{"::1", 0}, 1);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

Socket accept_one(const Socket& listener) {
  return Socket(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
}

TEST(Socket, IPv4PeersAreNamedPlainly) {
  const Socket listener = Socket::listen_on(*Endpoint::parse("127.0.0.1:0"), 4);
  const std::string port = std::to_string(listener.local_port());
  EXPECT_EQ(listener.local_name(), "127.0.0.1:" + port);
  const Socket client = Socket::connect_to(*Endpoint::parse("127.0.0.1:" + port));
  const Socket accepted = accept_one(listener);
  EXPECT_EQ(accepted.peer_name(), "127.0.0.1:" + std::to_string(client.local_port()));
  EXPECT_EQ(client.peer_name(), "127.0.0.1:" + port);
}

TEST(Socket, IPv6PeersAreNamedInBrackets) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback";
  const Socket listener = Socket::listen_on(*Endpoint::parse("[::1]:0"), 4);
  const std::string port = std::to_string(listener.local_port());
  EXPECT_EQ(listener.local_name(), "[::1]:" + port);
  const Socket client = Socket::connect_to(*Endpoint::parse("[::1]:" + port));
  const Socket accepted = accept_one(listener);
  EXPECT_EQ(accepted.peer_name(), "[::1]:" + std::to_string(client.local_port()));
}

// ":PORT" listens on "::" with IPV6_V6ONLY off: IPv4 clients arrive as IPv4-mapped addresses,
// which peer_name() prints as plain IPv4.
TEST(Socket, PortOnlyListensOnEveryInterfaceForBothFamilies) {
  const Socket listener = Socket::listen_on(*Endpoint::parse(":0"), 4);
  const std::string port = std::to_string(listener.local_port());
  const Socket over_ipv4 = Socket::connect_to(*Endpoint::parse("127.0.0.1:" + port));
  EXPECT_EQ(accept_one(listener).peer_name(),
            "127.0.0.1:" + std::to_string(over_ipv4.local_port()));
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback";
  EXPECT_EQ(listener.local_name(), "[::]:" + port);
  const Socket over_ipv6 = Socket::connect_to(*Endpoint::parse("[::1]:" + port));
  EXPECT_EQ(accept_one(listener).peer_name(), "[::1]:" + std::to_string(over_ipv6.local_port()));
}

TEST(Socket, HostNamesAreResolvedForBothEnds) {
  const Socket listener = Socket::listen_on(*Endpoint::parse("localhost:0"), 4);
  const std::string port = std::to_string(listener.local_port());
  // Whichever of localhost's addresses the listener got, the client tries each in turn; an
  // empty host means localhost too.
  const Socket named = Socket::connect_to(*Endpoint::parse("localhost:" + port));
  EXPECT_TRUE(accept_one(listener).peer_name());
  const Socket port_only = Socket::connect_to(*Endpoint::parse(":" + port));
  EXPECT_TRUE(accept_one(listener).peer_name());
}

TEST(Socket, ARefusedConnectionSaysWhere) {
  Socket bound = Socket::listen_on(*Endpoint::parse("127.0.0.1:0"), 1);
  const std::string address = "127.0.0.1:" + std::to_string(bound.local_port());
  bound = Socket();
  try {
    Socket::connect_to(*Endpoint::parse(address));
    FAIL() << "connected to a closed port";
  } catch (const std::system_error& error) {
    EXPECT_EQ(error.code(), std::errc::connection_refused);
    EXPECT_EQ(std::string(error.what()).rfind("connect to " + address, 0), 0u) << error.what();
  }
}

TEST(Socket, KeepAliveSetsAllFourOptions) {
  const Socket listener = Socket::listen_on(*Endpoint::parse("127.0.0.1:0"), 1);
  const Socket client = Socket::connect_to(*Endpoint::parse(listener.local_name().value()));
  ASSERT_TRUE(client.set_keep_alive(30, 5, 4));
  auto option = [&](int level, int name) {
    int value = -1;
    socklen_t length = sizeof value;
    ::getsockopt(client.fd(), level, name, &value, &length);
    return value;
  };
  EXPECT_EQ(option(SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPIDLE), 30);
  EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPINTVL), 5);
  EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPCNT), 4);
  EXPECT_FALSE(client.set_keep_alive(0, 5, 4)) << "the kernel refuses an idle time of 0";
}

// A WebSocket writer's send: everything while the peer reads, and EAGAIN after the stall
// deadline when it does not, never blocking in send() itself (the fd is non-blocking).
TEST(Socket, SendAllPollingWaitsForRoomUntilTheStallThenFailsWithEagain) {
  // Small buffers both ways (the reader's before the handshake, so its window is small too):
  // 8 MiB cannot go in one send() however fast the reader drains.
  const Socket listener = Socket::listen_on(*Endpoint::parse("127.0.0.1:0"), 1);
  const int small = 4096;
  ASSERT_EQ(::setsockopt(listener.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  const Socket sender = Socket::connect_to(*Endpoint::parse(listener.local_name().value()));
  const Socket reader = accept_one(listener);
  ASSERT_EQ(::setsockopt(sender.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  ASSERT_EQ(::fcntl(sender.fd(), F_SETFL, ::fcntl(sender.fd(), F_GETFL) | O_NONBLOCK), 0);
  const std::string bytes(8 << 20, 'x');

  std::uint64_t sends = 0;
  std::size_t received = 0;
  std::thread drain([&] {
    std::vector<char> buffer(1 << 16);
    while (received < bytes.size()) {
      const ssize_t n = ::recv(reader.fd(), buffer.data(), buffer.size(), 0);
      if (n <= 0) return;
      received += static_cast<std::size_t>(n);
    }
  });
  const bool sent = sender.send_all_polling(bytes, std::chrono::milliseconds(5'000), sends);
  if (!sent) sender.shutdown_write();  // the drain then ends at end of stream
  drain.join();
  EXPECT_TRUE(sent);
  EXPECT_EQ(received, bytes.size());
  EXPECT_GT(sends, 1u) << "8 MiB cannot go at once: it waited for room";

  sends = 0;
  const auto started = std::chrono::steady_clock::now();
  errno = 0;
  EXPECT_FALSE(sender.send_all_polling(bytes, std::chrono::milliseconds(100), sends));
  EXPECT_EQ(errno, EAGAIN);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  EXPECT_GE(sends, 1u);
}

}  // namespace
}  // namespace achat
