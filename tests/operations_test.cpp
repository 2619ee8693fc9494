// What an operator sees: one log line per connect, login, refusal and disconnect with its
// reason, the periodic stats line, and the final summary.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

bool logged(const ServerProcess& server, const std::string& text) {
  return server.log().find(text) != std::string::npos;
}

TEST(Operations, LogsEveryDisconnectWithItsReason) {
  // The login timeout is short for the silent client, long enough for the duplicate's login to be
  // read in time by a reader thread that starts late on a loaded machine under TSan.
  ServerProcess server(server_binary(), {"--max-line-bytes=100", "--login-timeout-ms=1000",
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
  ASSERT_TRUE(server.wait_for_log("stats: connections 2, threads 4, queued ", kDeadline)) << server.log();
  EXPECT_TRUE(server.wait_for_log(" s: routed ", kDeadline)) << server.log();
  EXPECT_TRUE(logged(server, "| totals: refused 0 connections and 0 logins, not online 0, cut 0 slow"))
      << server.log();
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  // 2 ready messages + 100 messages; each of the 100 goes to two recipients; then each client
  // is told the server is shutting down.
  EXPECT_TRUE(logged(server, "logins 2 (refused 0), messages accepted 102, deliveries routed 202, "
                             "lines written 204, undeliverable 0"))
      << server.log();
}

TEST(Operations, Sigusr1LogsAStatsLineAndTheServerCarriesOn) {
  ServerProcess server(server_binary(), {"--stats-interval=0"});
  auto alice = TestClient::online(server.port(), "alice");
  alice.send("alice, nobody: hi\n");
  ASSERT_EQ(alice.read_line(), "from alice: hi");
  ASSERT_EQ(alice.read_line(), "error: not online: nobody");
  server.signal(SIGUSR1);
  ASSERT_TRUE(server.wait_for_log("SIGUSR1: stats: connections 1, threads 2, queued ", kDeadline))
      << server.log();
  server.signal(SIGHUP);  // on stderr there is nothing to reopen: a stats line all the same
  ASSERT_TRUE(server.wait_for_log("SIGHUP: log on stderr, nothing to reopen; stats: connections 1",
                                  kDeadline)) << server.log();
  alice.send("alice: still served\n");
  EXPECT_EQ(alice.read_line(), "from alice: still served");
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(kDeadline), 0);
}

TEST(Operations, VersionPrintsTheProjectVersion) {
  for (const char* flag : {"--version", "-V"}) {
    const auto run = run_to_completion(server_binary(), {flag});
    EXPECT_EQ(run.status, 0) << flag;
    EXPECT_EQ(run.out, "a-chat-server 0.1.0\n") << flag;
  }
}

TEST(Operations, BadOptionsNameTheOptionAndItsRangeAndExitTwo) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--bogus"}, "unknown option --bogus (see --help)"},
      {{"--read-chunk-bytes=0"}, "option --read-chunk-bytes needs an integer from 256 to 1048576, got \"0\""},
      {{"--max-line-bytes=0"}, "option --max-line-bytes needs an integer from 64 to 67108864, got \"0\""},
      {{"--thread-stack-bytes=1"},
       "option --thread-stack-bytes needs an integer from 32768 to 1073741824, got \"1\""},
  };
  for (const auto& [args, expected] : cases) {
    const auto run = run_to_completion(server_binary(), args);
    EXPECT_EQ(run.status, 2) << args[0];
    EXPECT_EQ(run.out, "a-chat-server: " + expected + "\n");
  }
  const auto from_environment =
      run_to_completion("/usr/bin/env", {"ACHAT_MAX_CLIENTS=lots", server_binary()});
  EXPECT_EQ(from_environment.status, 2);
  EXPECT_EQ(from_environment.out, "a-chat-server: ACHAT_MAX_CLIENTS=lots: option --max-clients needs an "
                                  "integer from 0 to 1000000, got \"lots\"\n");
}

TEST(Operations, AnUnknownAchatVariableIsWarnedAbout) {
  ServerProcess server(server_binary(), {}, ServerLaunch{.environment = {"ACHAT_MAX_CLEINTS=5"}});
  EXPECT_TRUE(logged(server, "warning environment variable ACHAT_MAX_CLEINTS sets no option (see --help)"))
      << server.log();
  EXPECT_FALSE(logged(server, "ACHAT_LISTEN")) << server.log();
}

}  // namespace
}  // namespace achat::testing
