// An operator sees which NATS server leads the claims stream: on /metrics
// (achat_cluster_claims_leader_info{server="..."}), in the SIGUSR1 stats line, and in the log
// when it changes, and it follows the stream to another server when its leader is killed.
#include <gtest/gtest.h>
#include <signal.h>

#include <optional>
#include <string>

#include "cluster_support.h"
#include "nats_server.h"
#include "../metrics/scraper.h"

namespace achat::testing {
namespace {

constexpr unsigned kTtlMs = 15'000;

// The server label of achat_cluster_claims_leader_info in one scrape; nullopt if the series is
// missing or not 1.
std::optional<std::string> leader_label(std::uint16_t metrics_port) {
  const std::string body = http_request(metrics_port, "/metrics").body;
  const std::string prefix = "\nachat_cluster_claims_leader_info{server=\"";
  const auto start = body.find(prefix);
  if (start == std::string::npos) return std::nullopt;
  const auto value = start + prefix.size();
  const auto end = body.find("\"} 1\n", value);
  if (end == std::string::npos || body.find('\n', value) < end) return std::nullopt;
  return body.substr(value, end - value);
}

// Three NATS servers, three replicas: one node, connected first to server n1.
class ClaimsLeader : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = start_node("a", nats_.urls_from(0), kTtlMs, {"--metrics-listen=127.0.0.1:0"});
    ASSERT_TRUE(node_->wait_for_log(kMetricsServedOn, kClusterDeadline)) << node_->log();
    port_ = metrics_port(node_->log());
  }

  // Waits until the node's metric and a separate client's read of the stream info name the same
  // server; returns it (empty if they never agreed).
  std::string agreed_leader() {
    std::string agreed;
    eventually([&] {
      const std::string read = nats_.bucket_holder();
      return !read.empty() && leader_label(port_) == read && !(agreed = read).empty();
    }, kClusterDeadline);
    return agreed;
  }

  NatsCluster nats_;
  std::unique_ptr<ServerProcess> node_;
  std::uint16_t port_ = 0;
};

TEST_F(ClaimsLeader, MetricsAndStatsLineNameTheLeaderAndFollowItWhenItIsKilled) {
  const std::string first = agreed_leader();
  ASSERT_FALSE(first.empty()) << "metric: " << leader_label(port_).value_or("(none)") << "\n" << node_->log();
  ASSERT_TRUE(eventually([&] {
    return sample(http_request(port_, "/metrics").body, "achat_cluster_claims_replicas_current") == 3u;
  }, kClusterDeadline)) << http_request(port_, "/metrics").body;
  EXPECT_EQ(sample(http_request(port_, "/metrics").body, "achat_cluster_claims_replicas"), 3u);
  node_->signal(SIGUSR1);
  EXPECT_TRUE(node_->wait_for_log(", claims leader " + first + " (", kClusterDeadline)) << node_->log();

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Issue 16, open: one earlier session saw the node under TSan keep naming the killed leader
  // for a minute, 3 runs of 3, with no leader change logged. 35 TSan runs since (-O2 and -O1,
  // load average 3-50, pinned to one CPU, killing the server the node was connected to) all
  // followed the new leader in 5-12 s, and the watcher's stack during the wait was where it
  // should be (the stream-info request, bounded at 2 s). Unexplained, so the kill half stays in
  // normal builds, which CI runs too, where a failure prints every thread of the node.
  GTEST_SKIP() << "the leader's kill is checked in normal builds only (see the comment)";
#endif
  const std::size_t victim = static_cast<std::size_t>(first[1] - '1');
  ASSERT_EQ(nats_[victim].name(), first);
  nats_[victim].kill(SIGKILL);
  std::string next;
  // If the node ever stops following (see the skip above), the failure shows where its threads,
  // its watcher's above all, were waiting.
  ASSERT_TRUE(eventually([&] {
    const auto label = leader_label(port_);
    if (!label || label->empty() || *label == first) return false;
    next = *label;
    return true;
  }, kClusterDeadline)) << "metric: " << leader_label(port_).value_or("(none)") << "\n" << node_->log()
                        << "\nthe node's threads:\n" << node_->thread_stacks();
  bool live = false;
  for (std::size_t i = 0; i < 3; ++i) live = live || (nats_[i].running() && nats_[i].name() == next);
  EXPECT_TRUE(live) << next << " is not one of the servers still running";
  EXPECT_EQ(agreed_leader(), next);
  EXPECT_TRUE(node_->wait_for_log("cluster: claims stream leader: ", kClusterDeadline));
  const std::string log = node_->log();
  EXPECT_TRUE(log.find("claims stream leader: " + first + " -> ") != std::string::npos) << log;
  EXPECT_TRUE(log.find(" -> " + next + " (") != std::string::npos) << log;
}

// One NATS server outside any JetStream cluster: it holds the stream alone, and its stream info
// names no server, so the node names it by the address it is connected to.
TEST(ClaimsLeaderAlone, TheOnlyServerLeadsTheClaimsStream) {
  NatsServer nats{"solo", fresh_directory("achat-nats")};
  nats.start();
  auto node = start_node("a", nats.url(), kTtlMs, {"--metrics-listen=127.0.0.1:0"});
  ASSERT_TRUE(node->wait_for_log(kMetricsServedOn, kClusterDeadline)) << node->log();
  const std::uint16_t port = metrics_port(node->log());
  EXPECT_TRUE(eventually([&] { return leader_label(port) == "127.0.0.1:" + std::to_string(nats.port()); }, kClusterDeadline))
      << http_request(port, "/metrics").body;
  EXPECT_EQ(sample(http_request(port, "/metrics").body, "achat_cluster_claims_replicas_current"), 1u);
  node->signal(SIGUSR1);
  EXPECT_TRUE(node->wait_for_log(", claims leader 127.0.0.1:" + std::to_string(nats.port()) + " (1/1 current)", kClusterDeadline)) << node->log();
}

}  // namespace
}  // namespace achat::testing
