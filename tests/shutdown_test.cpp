// The server binary's signals, exit codes and command line.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

TEST(ServerBinary, SigtermDeliversEveryRoutedMessageAndExitsZero) {
  ServerProcess server(server_binary(), {});
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  constexpr int kMessages = 5000;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) burst += "bob: " + std::to_string(i) + "\n";
  alice.send(burst + "alice: sent\n");
  ASSERT_EQ(alice.read_line(), "from alice: sent");
  server.signal(SIGTERM);
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bob.read_line(), "from alice: " + std::to_string(i));
  EXPECT_EQ(bob.read_line(), "error: server shutting down");  // after everything routed to it
  EXPECT_TRUE(bob.closed_by_server());
  EXPECT_EQ(server.wait_exit(kDeadline), 0);
  EXPECT_NE(server.log().find("SIGTERM: shutting down"), std::string::npos) << server.log();
  EXPECT_NE(server.log().find("undeliverable 0"), std::string::npos) << server.log();
}

TEST(ServerBinary, SigintStopsGracefullyToo) {
  ServerProcess server(server_binary(), {});
  auto alice = TestClient::online(server.port(), "alice");
  server.signal(SIGINT);
  EXPECT_TRUE(alice.closed_by_server());
  EXPECT_EQ(server.wait_exit(kDeadline), 0);
}

TEST(ServerBinary, AClientThatNeverReadsCannotHoldShutdownHostage) {
  ServerProcess server(server_binary(), {"--drain-timeout-ms=300", "--max-outbound-bytes=67108864"});
  auto stuck = TestClient::online(server.port(), "stuck", /*receive_buffer_bytes=*/4096);
  auto flooder = TestClient::online(server.port(), "flooder");
  // 16 MiB: far more than loopback socket buffers hold (4 MiB at most), less than the cap.
  const std::string line = "stuck: " + std::string(1000, 'x') + "\n";
  std::string burst;
  for (int i = 0; i < 16 * 1024; ++i) burst += line;
  flooder.send(burst + "flooder: sent\n");
  ASSERT_EQ(flooder.read_line(), "from flooder: sent");
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(kDeadline), 0);
  EXPECT_NE(server.log().find("drain timeout"), std::string::npos) << server.log();
}

TEST(ServerBinary, HelpListsEveryOptionWithItsDefault) {
  const auto help = run_to_completion(server_binary(), {"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* option : {"--max-line-bytes N", "--max-login-bytes N", "--max-recipients N",
                             "--max-outbound-bytes N", "--max-clients N", "--login-timeout-ms N",
                             "--write-stall-ms N", "--max-queued-bytes N", "--drain-timeout-ms N", "--thread-stack-bytes N",
                             "--log-level LEVEL"}) {
    EXPECT_NE(help.out.find(option), std::string::npos) << option << " missing from:\n" << help.out;
  }
  EXPECT_NE(help.out.find("(default 65536)"), std::string::npos) << help.out;
}

TEST(ServerBinary, BadOptionsExitTwoWithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--no-such-option=1"}, {"--max-line-bytes=lots"}, {"not-an-address"}, {"--log-level=loud"}}) {
    const auto run = run_to_completion(server_binary(), args);
    EXPECT_EQ(run.status, 2) << args[0];
    EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1) << run.out;
    EXPECT_EQ(run.out.rfind("a-chat-server: ", 0), 0u) << run.out;
  }
}

}  // namespace
}  // namespace achat::testing
