// Unit tests of the socket calls over real loopback sockets (include/achat/socket.h): each
// address form, peer names, keep-alive.
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>
#include <string>
#include <system_error>
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

}  // namespace
}  // namespace achat
