// What an operator sees: one log line per connect, login, refusal and disconnect with its
// reason, the periodic stats line, and the final summary.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

bool logged(const ServerProcess& server, const std::string& text) {
  return server.log().find(text) != std::string::npos;
}

TEST(Operations, LogsEveryDisconnectWithItsReason) {
  ServerProcess server(server_binary(), {"--max-line-bytes=100", "--login-timeout-ms=100",
                                         "--max-outbound-bytes=65536"});
  {
    auto leaver = TestClient::online(server.port(), "leaver");
    leaver.shutdown_write();
    EXPECT_TRUE(leaver.closed_by_server());
  }
  {
    auto resetter = TestClient::online(server.port(), "resetter");
    resetter.reset();
  }
  {
    auto talker = TestClient::online(server.port(), "talker");
    talker.send(std::string(200, 'x') + "\n");
    EXPECT_TRUE(talker.closed_by_server());
  }
  {
    TestClient silent(server.port());
    EXPECT_TRUE(silent.closed_by_server());
  }
  {
    auto sloth = TestClient::online(server.port(), "sloth", /*receive_buffer_bytes=*/4096);
    auto flooder = TestClient::online(server.port(), "flooder");
    std::string chunk;
    for (int i = 0; i < 1000; ++i) chunk += "sloth: " + std::string(90, 'z') + "\n";
    // Flood until the server gives up on sloth (its kernel buffers absorb the first MiBs).
    for (int i = 0; i < 1000 && !server.wait_for_log("slow consumer", std::chrono::milliseconds(1)); ++i) {
      flooder.send(chunk);
    }
    EXPECT_TRUE(logged(server, "sloth (")) << server.log();
  }
  auto stayer = TestClient::online(server.port(), "stayer");
  TestClient duplicate(server.port());
  duplicate.send("stayer\n");
  EXPECT_TRUE(duplicate.closed_by_server());
  server.signal(SIGTERM);
  EXPECT_TRUE(stayer.closed_by_server());
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  for (const char* expected : {": connected", "leaver (", "): online", "leaver", ": disconnected: EOF",
                               "resetter", ": disconnected: reset", ": disconnected: line too long",
                               ": disconnected before login: login timeout",
                               "sloth (", "slow consumer", "login refused: login \"stayer\" is already online",
                               "stayer (", ": disconnected: server shutdown", "stopped: connections"}) {
    EXPECT_TRUE(logged(server, expected)) << "missing \"" << expected << "\" in:\n" << server.log();
  }
}

TEST(Operations, PeriodicStatsLineAndFinalSummaryCountTheLoad) {
  ServerProcess server(server_binary(), {"--stats-interval=1"});
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  std::string burst;
  for (int i = 0; i < 100; ++i) burst += "alice, bob: " + std::to_string(i) + "\n";
  alice.send(burst);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(bob.read_line(), "from alice: " + std::to_string(i));
  ASSERT_TRUE(server.wait_for_log("stats: connections 2, threads 4, routed ", kDeadline)) << server.log();
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  // 2 ready messages + 100 messages; each of the 100 goes to two recipients; then each client
  // is told the server is shutting down.
  EXPECT_TRUE(logged(server, "logins 2 (refused 0), messages accepted 102, deliveries routed 202, "
                             "lines written 204, undeliverable 0"))
      << server.log();
}

}  // namespace
}  // namespace achat::testing
