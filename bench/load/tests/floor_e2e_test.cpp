// a-chat-load against a-chat-floor (bench/floor_server.cpp): the floor must pass every delivery
// check the generator makes (no loss, no duplicate, per-pair order, the right sender), or its
// numbers next to a-chat's and the relay's would mean nothing.
// Arguments: the floor binary (binary_test_main.cpp); ACHAT_LOAD_BINARY names a-chat-load.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "load_json.h"
#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

Finished run_load(const ServerProcess& floor, std::vector<std::string> args) {
  args.insert(args.end(), {"--server", "127.0.0.1:" + std::to_string(floor.port()), "--json",
                           "--server-pid", std::to_string(floor.pid())});
  return run_to_completion(load_binary(), args);
}

// Random recipients, many lines in flight: every delivery arrives once, in order, from the
// sender named; the floor's threads sleep when nothing is sent.
TEST(Floor, RandomFanoutPassesEveryDeliveryCheck) {
  ASSERT_FALSE(load_binary().empty()) << "ACHAT_LOAD_BINARY is not set";
  ServerProcess floor(server_binary(), {});
  const Finished run = run_load(floor, {"--workload", "fanout", "--clients", "20",
                                        "--messages", "300", "--seed", "7"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_NE(run.out.find("\"ok\": true"), std::string::npos) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 20 * 300 * 3) << run.out;
  // A reader and a writer per client (40), plus the accept and broker threads.
  EXPECT_GE(json_number(run.out, "server_threads_end").value_or(0), 42) << run.out;
  const auto idle = json_number(run.out, "server_idle_cpu_pct");
  ASSERT_TRUE(idle.has_value()) << run.out;
  EXPECT_LT(*idle, 10) << run.out;
}

// A reconnect storm: every login is free again once its client has left, so all of them log in
// again with the same names (a name still taken fails the run: "already online"), and the
// second storm's deliveries are checked too.
TEST(Floor, StormFreesEveryLoginForItsReconnect) {
  ServerProcess floor(server_binary(), {});
  const Finished run = run_load(floor, {"--workload", "storm", "--clients", "200"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 200) << run.out;
}

// The open loop with latency, as compare.sh's crowd-active runs it, smaller.
TEST(Floor, OpenLoopCrowdPassesEveryDeliveryCheck) {
  ServerProcess floor(server_binary(), {});
  const Finished run = run_load(floor, {"--workload", "crowd-active", "--clients", "200",
                                        "--duration", "1"});
  ASSERT_EQ(run.status, 0) << run.out;
  EXPECT_EQ(json_number(run.out, "deliveries"), 200 * 2) << run.out;
}

// churn, as compare.sh runs it, smaller: connections come and go with fresh logins, and each
// one gets its line to itself back.
TEST(Floor, ChurnGetsEveryConnectionsEchoBack) {
  ServerProcess floor(server_binary(), {});
  const Finished run =
      run_load(floor, {"--workload", "churn", "--clients", "20", "--duration", "1"});
  expect_churn_passed(run.status, run.out, 20);
}

// The protocol's one refusal the floor keeps: a login already online is told so and closed, and
// the first holder of the name is still served.
TEST(Floor, LoginAlreadyOnlineIsRefused) {
  ServerProcess floor(server_binary(), {});
  TestClient first = TestClient::online(floor.port(), "ann");
  TestClient second(floor.port());
  second.send("ann\n");
  EXPECT_EQ(second.read_line(), "error: login \"ann\" is already online");
  EXPECT_TRUE(second.closed_by_server());
  first.send("ann: still here\n");
  EXPECT_EQ(first.read_line(), "from ann: still here");
}

}  // namespace
}  // namespace achat::testing
