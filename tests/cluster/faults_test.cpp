// Faults, made for real: nodes and NATS servers killed by PID, NATS away and back.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <optional>

#include "cluster_support.h"
#include "nats_server.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kTtlMs = 2'000;

// Node i lists NATS server i first, so each is connected to its own server.
class ThreeNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t i = 0; i < 3; ++i) {
      nodes_[i] = start_node(std::string(1, static_cast<char>('a' + i)), nats_.urls_from(i), kTtlMs);
    }
  }

  NatsCluster nats_;
  std::unique_ptr<ServerProcess> nodes_[3];
};


// Nodes a and b reach the bucket through different servers (at most one of them holds it).
TEST_F(ThreeNodes, SimultaneousLoginsThroughDifferentServersHaveExactlyOneWinner) {
  expect_one_winner_per_race(nodes_[0]->port(), nodes_[1]->port(), 200);
}

TEST_F(ThreeNodes, AKilledNodesLoginsAreFreeWithinTheTtlAndOthersKeepChatting) {
  auto alice = TestClient::online(nodes_[0]->port(), "alice");
  auto bob = TestClient::online(nodes_[1]->port(), "bob");
  auto carol = TestClient::online(nodes_[2]->port(), "carol");
  ASSERT_TRUE(wait_until_routable(bob, "bob", carol, "carol"));
  nodes_[0]->signal(SIGKILL);
  const auto killed = std::chrono::steady_clock::now();
  bob.send("carol: still here\n");
  EXPECT_EQ(carol.read_line(), "from bob: still here");
  auto again = login_when_free(nodes_[1]->port(), "alice");
  ASSERT_TRUE(again);
  const auto freed_after = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(freed_after, std::chrono::milliseconds(kTtlMs) + 3s);
  ASSERT_TRUE(wait_until_routable(carol, "carol", *again, "alice"));
  carol.send("bob: and you\n");
  EXPECT_EQ(bob.read_line(), "from carol: and you");
}

TEST_F(ThreeNodes, ANodeWhoseNatsServerDiesReconnectsAndChatResumes) {
  // Kill a server that does not hold the claims bucket: logins stay possible everywhere.
  const std::string holder = nats_.bucket_holder();
  ASSERT_FALSE(holder.empty());
  const std::size_t victim = holder == "n1" ? 1 : 0;
  auto& node = *nodes_[victim];
  auto& other = *nodes_[victim == 0 ? 1 : 0];
  auto local1 = TestClient::online(node.port(), "local1");
  auto local2 = TestClient::online(node.port(), "local2");
  auto remote = TestClient::online(other.port(), "remote");
  ASSERT_TRUE(wait_until_routable(remote, "remote", local1, "local1"));

  nats_[victim].kill(SIGKILL);
  local1.send("local2: during\n");  // local chat never stops
  EXPECT_EQ(local2.read_line(), "from local1: during");
  EXPECT_TRUE(node.wait_for_log("lines connected to nats://", kClusterDeadline)) << node.log();
  EXPECT_TRUE(wait_until_routable(remote, "remote", local1, "local1"));
  EXPECT_TRUE(wait_until_routable(local1, "local1", remote, "remote"));
  EXPECT_TRUE(login_when_free(node.port(), "newcomer"));
}

TEST_F(ThreeNodes, ASessionWhoseClaimLapsedWhileItsNodeWasCutOffEndsWhenTheNodeReturns) {
  // Node d knows one server only, not the bucket's: killing it cuts d off from the cluster.
  const std::string holder = nats_.bucket_holder();
  ASSERT_FALSE(holder.empty());
  const std::size_t lone = holder == "n1" ? 1 : 0;
  auto d = start_node("d", nats_[lone].url(), kTtlMs);
  auto stranded = TestClient::online(d->port(), "alice");
  nats_[lone].kill(SIGKILL);
  auto alice = login_when_free(nodes_[2]->port(), "alice");  // once d's claim has expired
  ASSERT_TRUE(alice);
  nats_[lone].start();
  EXPECT_EQ(stranded.read_line(kClusterDeadline), "error: login \"alice\" was taken on another node, disconnecting");
  EXPECT_TRUE(stranded.closed_by_server());
  alice->send("alice: still me\n");
  EXPECT_EQ(alice->read_line(), "from alice: still me");
}

// Sends probe lines from `from` to `name` until its node answers "not online": its directory
// has dropped `name`. A probe it still forwards gets no answer; each waits `patience`.
bool answered_not_online(TestClient& from, const std::string& name,
                         std::chrono::milliseconds patience = 500ms) {
  const auto deadline = std::chrono::steady_clock::now() + kClusterDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    from.send(name + ": probe\n");
    if (from.read_line(patience) == "error: not online: " + name) return true;
  }
  return false;
}

// The mirror case: nobody takes the lapsed login, so the node claims it again when it returns
// and the session goes on.
TEST_F(ThreeNodes, AClaimThatLapsedWhileItsNodeWasCutOffIsTakenBackIfStillFree) {
  const std::string holder = nats_.bucket_holder();
  ASSERT_FALSE(holder.empty());
  const std::size_t lone = holder == "n1" ? 1 : 0;
  auto d = start_node("d", nats_[lone].url(), kTtlMs);
  auto stranded = TestClient::online(d->port(), "alice");
  auto carol = TestClient::online(nodes_[2]->port(), "carol");
  ASSERT_TRUE(wait_until_routable(carol, "carol", stranded, "alice"));
  nats_[lone].kill(SIGKILL);
  ASSERT_TRUE(answered_not_online(carol, "alice"));  // the claim went unrefreshed for the TTL
  nats_[lone].start();
  EXPECT_TRUE(d->wait_for_log("claim of alice had expired; claimed again", kClusterDeadline)) << d->log();
  EXPECT_EQ(attempt_login(nodes_[2]->port(), "alice").answer,
            "error: login \"alice\" is already online, disconnecting");
  stranded.send("alice: still me\n");
  std::optional<std::string> line;
  do {
    line = stranded.read_line();
  } while (line == "from carol: probe");  // a probe forwarded before the cut may still arrive
  EXPECT_EQ(line, "from alice: still me");
}

// One NATS server that goes away and comes back, under one node.
class NatsOutage : public ::testing::Test {
 protected:
  // Node a with alice and bob online, then its only NATS server killed.
  void lose_nats_with_two_online() {
    nats_.start();
    node_ = start_node("a", nats_.url(), kTtlMs);
    alice_.emplace(TestClient::online(node_->port(), "alice"));
    bob_.emplace(TestClient::online(node_->port(), "bob"));
    nats_.kill(SIGKILL);
    EXPECT_TRUE(node_->wait_for_log("lost its NATS server", kDeadline)) << node_->log();
  }

  NatsServer nats_{"solo", fresh_directory("achat-nats")};
  std::unique_ptr<ServerProcess> node_;
  std::optional<TestClient> alice_;
  std::optional<TestClient> bob_;
};

TEST_F(NatsOutage, LoginsFailClosedWhileNatsIsAwayLocalChatGoesOn) {
  lose_nats_with_two_online();
  alice_->send("bob: still chatting\n");
  EXPECT_EQ(bob_->read_line(), "from alice: still chatting");
  EXPECT_EQ(attempt_login(node_->port(), "carol").answer, "error: cluster unavailable, try again");

  nats_.start();
  EXPECT_TRUE(login_when_free(node_->port(), "carol"));
  bob_->send("alice: and after\n");
  EXPECT_EQ(alice_->read_line(), "from bob: and after");
}

TEST_F(NatsOutage, ShutdownWithoutNatsDoesNotWaitForIt) {
  lose_nats_with_two_online();
  const auto asked = std::chrono::steady_clock::now();
  node_->signal(SIGTERM);
  EXPECT_TRUE(alice_->closed_by_server());
  EXPECT_EQ(node_->wait_exit(kDeadline), 0);
  // Each NATS request would time out after 2 s: none is waited for.
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 2s) << node_->log();
  EXPECT_NE(node_->log().find("releases failed 2"), std::string::npos) << node_->log();
}

TEST_F(NatsOutage, ANodeStartedWithoutNatsRefusesLoginsUntilItComes) {
  auto node = std::make_unique<ServerProcess>(
      server_binary(), std::vector<std::string>{"--cluster", nats_.url(), "--node-id", "a",
                                                "--claim-ttl-ms", std::to_string(kTtlMs)});
  EXPECT_EQ(attempt_login(node->port(), "alice").answer, "error: cluster unavailable, try again");
  nats_.start();
  EXPECT_TRUE(node->wait_for_log("cluster: ready", kClusterDeadline)) << node->log();
  EXPECT_TRUE(login_when_free(node->port(), "alice"));
}

}  // namespace
}  // namespace achat::testing
