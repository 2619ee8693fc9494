// a-chat-load against the real a-chat-server: with recipients drawn at random every delivery
// passes the checks, and the server's CPU is reported, idle and per delivered line.
// Arguments: the server binary (binary_test_main.cpp); ACHAT_LOAD_BINARY names a-chat-load.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "load_json.h"
#include "server_process.h"

namespace achat::testing {
namespace {

// The port of the server's --web-listen 127.0.0.1:0, from the line it logs.
std::uint16_t web_port(ServerProcess& server) {
  const std::string announcement = "serving the web page and WebSocket on 127.0.0.1:";
  if (!server.wait_for_log(announcement, std::chrono::seconds(10))) return 0;
  const std::string log = server.log();
  return static_cast<std::uint16_t>(std::stoi(log.substr(log.find(announcement) + announcement.size())));
}

Finished run_load(const ServerProcess& server, std::vector<std::string> args) {
  args.insert(args.end(), {"--server", "127.0.0.1:" + std::to_string(server.port()), "--json",
                           "--server-pid", std::to_string(server.pid())});
  return run_to_completion(load_binary(), args);
}

TEST(LoadGenerator, RandomRecipientsAllCheckedAgainstTheServer) {
  ASSERT_FALSE(load_binary().empty()) << "ACHAT_LOAD_BINARY is not set";
  ServerProcess server(server_binary(), {});
  const Finished run =
      run_load(server, {"--workload", "fanout", "--clients", "20", "--messages", "300",
                        "--seed", "7"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("\"ok\": true"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"pattern\": \"random\""), std::string::npos) << run.out;
  EXPECT_EQ(json_number(run.out, "seed"), 7) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 20 * 300 * 3) << run.out;
  EXPECT_GT(json_number(run.out, "server_cpu_us_per_delivery").value_or(0), 0) << run.out;
  EXPECT_GT(json_number(run.out, "server_threads_end").value_or(0), 40) << run.out;
  // Every client logged in, nothing sent: a server that spins or polls would show here.
  const auto idle = json_number(run.out, "server_idle_cpu_pct");
  ASSERT_TRUE(idle.has_value()) << run.out;
  EXPECT_LT(*idle, 10) << run.out;
}

// Every client over WebSocket (one text frame per line each way), every delivery still checked.
TEST(LoadGenerator, WebSocketClientsAllCheckedAgainstTheServer) {
  ServerProcess server(server_binary(), {"--web-listen", "127.0.0.1:0"});
  const std::uint16_t port = web_port(server);
  ASSERT_NE(port, 0) << server.log();
  const Finished run = run_to_completion(
      load_binary(), {"--server", "127.0.0.1:" + std::to_string(port), "--transport", "ws",
                      "--workload", "fanout", "--clients", "20", "--messages", "300", "--size",
                      "200", "--json"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("\"ok\": true"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"transport\": \"ws\""), std::string::npos) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 20 * 300 * 3) << run.out;
}

// The stress test's shape across transports: 2,000 WebSocket clients and 2,000 TCP clients on
// one server at once (8,000 threads), each sending to random others of its transport, every
// delivery checked in both runs.
TEST(LoadGenerator, TwoThousandWebSocketClientsNextToTwoThousandTcpClients) {
  ServerProcess server(server_binary(), {"--web-listen", "127.0.0.1:0"});
  const std::uint16_t port = web_port(server);
  ASSERT_NE(port, 0) << server.log();
  const std::vector<std::string> workload = {"--workload", "fanout", "--clients", "2000",
                                             "--messages", "20", "--window", "4", "--json"};
  std::vector<std::string> over_ws = {"--server", "127.0.0.1:" + std::to_string(port),
                                      "--transport", "ws", "--seed", "2"};
  over_ws.insert(over_ws.end(), workload.begin(), workload.end());
  auto websocket_run = std::async(std::launch::async, [&] { return run_to_completion(load_binary(), over_ws); });
  const Finished tcp = run_load(server, workload);
  const Finished websocket = websocket_run.get();
  ASSERT_EQ(tcp.status, 0) << tcp.out;
  ASSERT_EQ(websocket.status, 0) << websocket.out;
  EXPECT_EQ(json_number(tcp.out, "deliveries"), 2000 * 20 * 3) << tcp.out;
  EXPECT_EQ(json_number(websocket.out, "deliveries"), 2000 * 20 * 3) << websocket.out;
  EXPECT_NE(websocket.out.find("\"ok\": true"), std::string::npos) << websocket.out;
}

TEST(LoadGenerator, OpenLoopCrowdReportsLatencyAndSendLag) {
  ServerProcess server(server_binary(), {});
  const Finished run = run_load(server, {"--workload", "crowd-active", "--clients", "200",
                                         "--duration", "1"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 200 * 2) << run.out;
  EXPECT_TRUE(json_number(run.out, "latency_p999_us").has_value()) << run.out;
  EXPECT_TRUE(json_number(run.out, "send_lag_p99_us").has_value()) << run.out;
}

// storm: every client leaves and all log in again with the same logins; every delivery of the
// second storm is still checked, and both storms' login times are reported.
TEST(LoadGenerator, StormLogsEveryClientInTwice) {
  ServerProcess server(server_binary(), {});
  const Finished run = run_load(server, {"--workload", "storm", "--clients", "200"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 200) << run.out;
  EXPECT_TRUE(json_number(run.out, "first_login_ms").has_value()) << run.out;
  EXPECT_TRUE(json_number(run.out, "login_ms").has_value()) << run.out;
}

// churn: slots that connect, log in, send one line to themselves and leave once its echo is
// back, again and again with fresh logins; every connection's echo is checked, and the server's
// CPU is reported per connection.
TEST(LoadGenerator, ChurnGetsEveryConnectionsEchoBack) {
  ServerProcess server(server_binary(), {});
  const Finished run =
      run_load(server, {"--workload", "churn", "--clients", "20", "--duration", "1"});
  expect_churn_passed(run.status, run.out, 20);
  EXPECT_NE(run.out.find("\"ok\": true"), std::string::npos) << run.out;
  EXPECT_GT(json_number(run.out, "connections_per_s").value_or(0), 0) << run.out;
  EXPECT_GT(json_number(run.out, "cycle_p50_ms").value_or(0), 0) << run.out;
  EXPECT_GT(json_number(run.out, "server_cpu_us_per_connection").value_or(0), 0) << run.out;
}

// The check is real: a server that refuses every login (longer than 5 bytes: "c00000-0" is 8)
// completes no cycle, and every refusal is a failure that fails the run.
TEST(LoadGenerator, ChurnCountsARefusalAsAFailure) {
  ServerProcess server(server_binary(), {"--max-login-bytes", "5"});
  const Finished run =
      run_load(server, {"--workload", "churn", "--clients", "5", "--duration", "0.5"});
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_NE(run.out.find("\"ok\": false"), std::string::npos) << run.out;
  EXPECT_EQ(json_number(run.out, "connections"), 0) << run.out;
  EXPECT_GE(json_number(run.out, "failures").value_or(0), 5) << run.out;
  EXPECT_NE(run.out.find("refused: 'error: invalid login"), std::string::npos) << run.out;
}

// churn over WebSocket: each cycle is also an upgrade; the echo comes back as a text frame.
TEST(LoadGenerator, ChurnOverWebSocket) {
  ServerProcess server(server_binary(), {"--web-listen", "127.0.0.1:0"});
  const std::uint16_t port = web_port(server);
  ASSERT_NE(port, 0) << server.log();
  const Finished run = run_to_completion(
      load_binary(), {"--server", "127.0.0.1:" + std::to_string(port), "--transport", "ws",
                      "--workload", "churn", "--clients", "10", "--duration", "1", "--json"});
  expect_churn_passed(run.status, run.out, 10);
  EXPECT_NE(run.out.find("\"transport\": \"ws\""), std::string::npos) << run.out;
}

// The ring must stay available: it is the server's best case, kept for comparison.
TEST(LoadGenerator, NextPatternStillPasses) {
  ServerProcess server(server_binary(), {});
  const Finished run = run_load(server, {"--workload", "fanout", "--pattern", "next",
                                         "--clients", "10", "--messages", "100"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("\"pattern\": \"next\""), std::string::npos) << run.out;
}

}  // namespace
}  // namespace achat::testing
