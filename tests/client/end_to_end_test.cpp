// The real a-chat-client binary against the real a-chat-server binary (ServerProcess), on each
// address form: IPv6, a host name, and every interface (dual-stack). Piped mode, exact bytes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "server_process.h"
#include "test_client.h"
#include "test_support.h"

namespace achat::client::testing {
namespace {

using achat::testing::ServerProcess;

std::string server_path() {
  const char* path = std::getenv("ACHAT_SERVER_EXE");
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error("ACHAT_SERVER_EXE is not set: run these tests with meson test");
  }
  return path;
}

bool has_ipv6_loopback() {
  try {
    Socket::listen_on(*Endpoint::parse("[::1]:0"), 1);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// True once the server's log has its "ADDRESS: connected" line for an address matching
// `address_pattern` (false if it has not come within the deadline).
bool logged_connection_from(const ServerProcess& server, const std::string& address_pattern) {
  const std::regex line(address_pattern + ": connected");
  return achat::testing::eventually([&] { return std::regex_search(server.log(), line); });
}

// A piped client that has proved it is online: its message to itself came back.
class OnlineClient {
 public:
  OnlineClient(const std::string& address, const std::string& login)
      : login_(login), process_({client_path(), address, "--login", login}) {
    const std::string ready = "from " + login + ": ready\n";
    process_.write_stdin(login + ": ready\n");
    EXPECT_EQ(process_.read_stdout(ready.size()), ready) << login << ": " << process_.err();
  }

  ChildProcess& process() { return process_; }

  // Ends stdin; the server then closes and the client exits.
  std::optional<int> leave() {
    process_.close_stdin();
    return process_.wait_exit();
  }

 private:
  std::string login_;
  ChildProcess process_;
};

// alice sends to bob through the server at `address`; both leave cleanly.
void chat(const std::string& address) {
  OnlineClient bob(address, "bob");
  OnlineClient alice(address, "alice");
  ASSERT_TRUE(alice.process().write_stdin("bob: hello from alice\n"));
  const std::string expected = "from bob: ready\nfrom alice: hello from alice\n";
  EXPECT_EQ(bob.process().read_stdout(expected.size()), expected);
  EXPECT_EQ(alice.leave(), 0) << alice.process().err();
  EXPECT_EQ(bob.leave(), 0) << bob.process().err();
}

TEST(ClientServer, ChatOverIPv6) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "this machine has no IPv6 loopback (::1)";
  ServerProcess server(server_path(), {}, achat::testing::ServerLaunch{.address = "[::1]:0"});
  ASSERT_NO_FATAL_FAILURE(chat("[::1]:" + std::to_string(server.port())));
  // The server names IPv6 peers in brackets.
  EXPECT_TRUE(logged_connection_from(server, R"(\[::1\]:\d+)")) << server.log();
}

TEST(ClientServer, ClientResolvesLocalhost) {
  ServerProcess server(server_path(), {});  // 127.0.0.1
  ASSERT_NO_FATAL_FAILURE(chat("localhost:" + std::to_string(server.port())));
}

TEST(ClientServer, ServerListensOnEveryInterfaceForBothFamilies) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "this machine has no IPv6 loopback (::1)";
  ServerProcess server(server_path(), {}, achat::testing::ServerLaunch{.address = ":0"});
  const std::string port = std::to_string(server.port());
  OnlineClient over_ipv4("127.0.0.1:" + port, "four");
  OnlineClient over_ipv6("[::1]:" + port, "six");
  ASSERT_TRUE(over_ipv4.process().write_stdin("six: hi from IPv4\n"));
  const std::string expected = "from six: ready\nfrom four: hi from IPv4\n";
  EXPECT_EQ(over_ipv6.process().read_stdout(expected.size()), expected);
  EXPECT_EQ(over_ipv4.leave(), 0);
  EXPECT_EQ(over_ipv6.leave(), 0);
  // An IPv4 client of the dual-stack listener is named as plain IPv4, not ::ffff:127.0.0.1.
  EXPECT_TRUE(logged_connection_from(server, R"(127\.0\.0\.1:\d+)")) << server.log();
  EXPECT_TRUE(logged_connection_from(server, R"(\[::1\]:\d+)")) << server.log();
  EXPECT_EQ(server.log().find("::ffff:"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace achat::client::testing
