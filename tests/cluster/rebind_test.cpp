// A claims bucket deleted, or deleted and made again, under running nodes (issue 16, point 5):
// each node notices within seconds, binds the stream again (making it if it is missing), watches
// it afresh and claims its logins again, and compares claims by (epoch, revision), since the new
// stream's revisions restart at 1. One nats-server (one replica), or three in a JetStream cluster
// (three replicas: the stream is made again across all three, and the re-claims are creates that
// the arbiter judges, claim_arbiter.h); two real nodes, the stream deleted by the
// test through JetStream as `nats stream rm KV_achat_logins` does. The TTL is long enough that
// nothing here is an expiry's doing: what still holds the names afterwards is the re-claim.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "cluster/bucket_shape.h"
#include "cluster/claim_record.h"
#include "cluster/claims_bucket.h"
#include "cluster/nats_handles.h"
#include "claims_bucket_client.h"
#include "cluster_support.h"
#include "nats_server.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;
using cluster::claim_key;

constexpr unsigned kTtlMs = 30'000;
// "Within a few seconds": each node checks the stream every second; a sanitizer build is slower.
constexpr std::chrono::milliseconds kNoticed = 8s;
// The one warning line a node logs when it finds the stream gone or made again.
const std::string kWarning = "cluster: the claims bucket (stream KV_achat_logins) ";

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t found = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++found;
  return found;
}

// The parameter: how many NATS servers (and so replicas of the claims stream).
class Rebind : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::string urls[3];
    if (replicas() == 1) {
      solo_.emplace("solo", fresh_directory("achat-nats"));
      solo_->start();
      urls[0] = urls[1] = urls[2] = solo_->url();
    } else {
      cluster_.emplace();
      for (std::size_t i = 0; i < 3; ++i) urls[i] = cluster_->urls_from(i);
    }
    a_ = start_node("a", urls[0], kTtlMs);
    b_ = start_node("b", urls[1], kTtlMs);
    ASSERT_TRUE(bucket_.open(urls[2]));  // the test's own view, through the third server if any
  }

  int replicas() const { return GetParam(); }

  void delete_stream() {
    jsErrCode error = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_DeleteStream(bucket_.js.get(), cluster::kClaimsStream, nullptr, &error), NATS_OK) << error;
  }

  // What an operator (or an old a-chat) would make in its place: the same bucket, empty.
  void make_stream() {
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = cluster::kClaimsBucket;
    config.History = static_cast<uint8_t>(cluster::kClaimHistory);
    config.TTL = static_cast<std::int64_t>(kTtlMs) * 1'000'000;
    config.Replicas = replicas();
    config.StorageType = js_FileStorage;
    kvStore* kv = nullptr;
    ASSERT_EQ(js_CreateKeyValue(&kv, bucket_.js.get(), &config), NATS_OK);
    cluster::KvStoreHandle made(kv);
  }

  // Node `node`'s claim of `login` is in the stream there now.
  bool claimed_by(const std::string& login, const std::string& node) {
    kvEntry* raw = nullptr;
    if (kvStore_Get(&raw, bucket_.kv.get(), claim_key(login).c_str()) != NATS_OK) return false;
    const cluster::KvEntryHandle entry(raw);
    const auto owner = cluster::ClaimOwner::parse(std::string(
        static_cast<const char*>(kvEntry_Value(entry.get())), static_cast<std::size_t>(kvEntry_ValueLen(entry.get()))));
    return owner && owner->node == node;
  }

  // A login of `name` on `port`, asked again while the node waits for the others to claim
  // their logins again after a rebind ("cluster unavailable, try again"); the first other answer.
  std::string answer_once_ready(std::uint16_t port, const std::string& name) {
    std::string answer;
    EXPECT_TRUE(eventually(
        [&] {
          auto attempt = attempt_login(port, name);
          answer = attempt.client ? "online" : attempt.answer;
          return answer.find("cluster unavailable") == std::string::npos;
        },
        kNoticed))
        << answer;
    return answer;
  }

  // alice on a, bob on b, each routable from the other; the stream then goes (and, if `remake`,
  // comes back empty at once). Checks what users see afterwards.
  void run(bool remake) {
    std::optional<TestClient> alice = TestClient::online(a_->port(), "alice");
    auto bob = TestClient::online(b_->port(), "bob");
    ASSERT_TRUE(wait_until_routable(*alice, "alice", bob, "bob"));
    ASSERT_TRUE(wait_until_routable(bob, "bob", *alice, "alice"));

    const auto deleted = std::chrono::steady_clock::now();
    delete_stream();
    if (remake) make_stream();
    // Each node notices, binds again and claims its own logins in the new stream.
    EXPECT_TRUE(a_->wait_for_log(kWarning, kNoticed)) << a_->log();
    EXPECT_TRUE(b_->wait_for_log(kWarning, kNoticed)) << b_->log();
    ASSERT_TRUE(eventually([&] { return claimed_by("alice", "a") && claimed_by("bob", "b"); }, kNoticed))
        << a_->log() << b_->log();
    const auto reclaimed = std::chrono::steady_clock::now() - deleted;
    std::printf("claims made again %lld ms after the stream was deleted\n",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(reclaimed).count()));

    // (a) Users logged in before still chat across nodes.
    alice->send("bob: after the rebind\n");
    EXPECT_EQ(bob.read_line(), "from alice: after the rebind");
    bob.send("alice: heard you\n");
    EXPECT_EQ(alice->read_line(), "from bob: heard you");

    // (b) A name held on a is still refused on b.
    EXPECT_EQ(answer_once_ready(b_->port(), "alice"), "error: login \"alice\" is already online, disconnecting");

    // (c) A name released after the re-creation is free on the other node: a's delete carries
    // the new stream's revision (a revision of the old one would be refused, leaving the name
    // taken until the TTL).
    alice.reset();
    const auto released = std::chrono::steady_clock::now();
    auto again = login_when_free(b_->port(), "alice", std::chrono::milliseconds(kTtlMs / 3));
    ASSERT_TRUE(again) << a_->log();
    EXPECT_LT(std::chrono::steady_clock::now() - released, std::chrono::milliseconds(kTtlMs / 3));
    again->send("bob: alice again, on b\n");
    EXPECT_EQ(bob.read_line(), "from alice: alice again, on b");

    // One warning per node for one deletion, whichever node noticed first.
    EXPECT_EQ(count(a_->log(), kWarning), 1u) << a_->log();
    EXPECT_EQ(count(b_->log(), kWarning), 1u) << b_->log();
  }

  std::optional<NatsServer> solo_;
  std::optional<NatsCluster> cluster_;
  std::unique_ptr<ServerProcess> a_;
  std::unique_ptr<ServerProcess> b_;
  ClaimsBucketClient bucket_;
};

TEST_P(Rebind, ADeletedClaimsStreamIsMadeAgainAndEveryHeldLoginClaimedAgain) { run(false); }

TEST_P(Rebind, AClaimsStreamDeletedAndMadeAgainIsBoundAgainAndEveryHeldLoginClaimedAgain) { run(true); }

INSTANTIATE_TEST_SUITE_P(Servers, Rebind, ::testing::Values(1, 3),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 1 ? std::string("OneServer") : std::string("ThreeServers");
                         });

}  // namespace
}  // namespace achat::testing
