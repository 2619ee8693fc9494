// Lines larger than the NATS servers' max payload (issue 16, point 5): known only once a node
// is connected, such a line is answered to its sender, never silently lost; lines that fit
// alone but not together travel in several publications. One nats-server with max_payload 4096.
#include <gtest/gtest.h>

#include <string>

#include "cluster_support.h"
#include "nats_server.h"
#include "../metrics/scraper.h"

namespace achat::testing {
namespace {

constexpr unsigned kTtlMs = 60'000;
constexpr std::size_t kMaxPayload = 4096;

class SmallMaxPayload : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_.configure("max_payload: " + std::to_string(kMaxPayload));
    nats_.start();
    a_ = start_node("a", nats_.url(), kTtlMs, {"--metrics-listen=127.0.0.1:0"});
    b_ = start_node("b", nats_.url(), kTtlMs);
  }

  NatsServer nats_{"solo", fresh_directory("achat-nats")};
  std::unique_ptr<ServerProcess> a_;
  std::unique_ptr<ServerProcess> b_;
};

TEST_F(SmallMaxPayload, ALineTooLargeForNatsIsAnsweredToItsSenderAndLocalRecipientsStillGetIt) {
  ASSERT_NE(a_->log().find("NATS accepts publications of up to 4096 bytes"), std::string::npos) << a_->log();
  auto alice = TestClient::online(a_->port(), "alice");
  auto carol = TestClient::online(a_->port(), "carol");
  auto bob = TestClient::online(b_->port(), "bob");
  ASSERT_TRUE(wait_until_routable(alice, "alice", bob, "bob"));
  const std::string big(kMaxPayload, 'x');
  alice.send("carol, bob: " + big + "\n");
  EXPECT_EQ(carol.read_line(), "from alice: " + big);
  EXPECT_EQ(alice.read_line(), "error: line too long for the cluster, not sent to: bob");
  // The connection is kept and the route still works, with no gap in a's sequence to b.
  alice.send("bob: after\n");
  EXPECT_EQ(bob.read_line(), "from alice: after");
  const std::string body = http_request(metrics_port(a_->log()), "/metrics").body;
  EXPECT_EQ(sample(body, "achat_cluster_forward_too_long_total"), 1u) << body;
  EXPECT_EQ(sample(body, "achat_cluster_forward_failed_total"), 0u) << body;
}

TEST_F(SmallMaxPayload, LinesThatFitAloneButNotTogetherAllArriveInOrder) {
  auto alice = TestClient::online(a_->port(), "alice");
  auto bob = TestClient::online(b_->port(), "bob");
  ASSERT_TRUE(wait_until_routable(alice, "alice", bob, "bob"));
  // One write: the broker routes them in one round, the publisher receives them together.
  const std::string chunk(kMaxPayload / 3, 'y');
  std::string lines;
  for (int i = 0; i < 12; ++i) lines += "bob: " + std::to_string(i) + chunk + "\n";
  alice.send(lines);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(bob.read_line(), "from alice: " + std::to_string(i) + chunk) << i;
  const std::string body = http_request(metrics_port(a_->log()), "/metrics").body;
  EXPECT_EQ(sample(body, "achat_cluster_forward_failed_total"), 0u) << body;
}

}  // namespace
}  // namespace achat::testing
