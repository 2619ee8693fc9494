// The guards that keep one name to one session, each created for real against one nats-server
// and one node (issue 16, point 9: scripts/cluster-mutants.sh checks that each test here fails
// when its guard is removed): a release never deletes a claim another node wrote since; a
// previous run's claim is deleted only as that run left it; a release behind a race's loser still
// frees the name; a lost publication is counted; a
// claim's typed login is listed by "/who" only if it is a login of that claim's key.
// The node reaches NATS through a DelayProxy (25 ms each way), so each of its deletes arrives
// well after the test's writes that make it stale.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <optional>
#include <string>

#include "achat/limits.h"
#include "achat/login_name.h"
#include "cluster/claim_record.h"
#include "cluster/claims_bucket.h"
#include "cluster/envelope.h"
#include "cluster/nats_handles.h"
#include "claims_bucket_client.h"
#include "cluster_support.h"
#include "delay_proxy.h"
#include "nats_server.h"
#include "../metrics/scraper.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;
using cluster::claim_key;

constexpr unsigned kTtlMs = 60'000;  // no refresh round or expiry during a test
const std::string kOtherNode = cluster::ClaimOwner{"b", "00000000000000bb"}.to_value();
const std::string kDeadRunOfA = cluster::ClaimOwner{"a", "00000000000000aa"}.to_value();

class Guards : public ::testing::Test {
 protected:
  void SetUp() override {
    nats_.start();
    proxy_.emplace(nats_.port(), 25ms);
    a_ = start_node("a", proxy_->url(), kTtlMs, {"--metrics-listen=127.0.0.1:0"});
    ASSERT_TRUE(bucket_.open(nats_.url()));
  }

  // The value and revision of `login`'s claim; nullopt if there is none.
  std::optional<std::pair<std::string, std::uint64_t>> claim_of(const std::string& login) {
    kvEntry* raw = nullptr;
    if (kvStore_Get(&raw, bucket_.kv.get(), claim_key(login).c_str()) != NATS_OK) return std::nullopt;
    const cluster::KvEntryHandle entry(raw);
    return std::make_pair(std::string(static_cast<const char*>(kvEntry_Value(entry.get())),
                                      static_cast<std::size_t>(kvEntry_ValueLen(entry.get()))),
                          kvEntry_Revision(entry.get()));
  }

  std::uint64_t put(const std::string& login, const std::string& value) {
    std::uint64_t revision = 0;
    EXPECT_EQ(kvStore_PutString(&revision, bucket_.kv.get(), claim_key(login).c_str(), value.c_str()), NATS_OK);
    return revision;
  }

  NatsServer nats_{"solo", fresh_directory("achat-nats")};
  std::optional<DelayProxy> proxy_;
  std::unique_ptr<ServerProcess> a_;
  ClaimsBucketClient bucket_;
};

// Node a's session of alice ends because another node wrote her claim; a's release (a delete
// guarded by the revision a knows) must leave the other node's claim in place.
TEST_F(Guards, AReleaseNeverDeletesAClaimAnotherNodeWroteSince) {
  auto alice = TestClient::online(a_->port(), "alice");
  const auto held = claim_of("alice");
  ASSERT_TRUE(held);
  // Deleted (as a watcher does with a dead run's claim) and taken by node b: with no delete in
  // between, a later write would be a race's loser that a's claim outranks (claim_arbiter.h).
  std::uint64_t revision = 0;
  ASSERT_EQ(kvStore_Delete(bucket_.kv.get(), claim_key("alice").c_str()), NATS_OK);
  ASSERT_EQ(kvStore_CreateString(&revision, bucket_.kv.get(), claim_key("alice").c_str(), kOtherNode.c_str()), NATS_OK);
  EXPECT_EQ(alice.read_line(), "error: login \"alice\" was taken on another node, disconnecting");
  // a's releases are deleted in order: once a later one is gone, alice's delete has been tried.
  { auto marker = TestClient::online(a_->port(), "marker"); }
  ASSERT_TRUE(eventually([&] { return !claim_of("marker"); }, kClusterDeadline));
  const auto now = claim_of("alice");
  ASSERT_TRUE(now) << "a's release deleted the claim node b wrote";
  EXPECT_EQ(now->first, kOtherNode);
}

// A race's loser may write a claim after its holder (another owner's write, no delete between:
// claim_arbiter.h); the holder's release, which expected its own revision, then finds it
// changed, and must still delete the claim at its latest revision, or the name would stay
// taken, by nobody, until the TTL. Promptly: not a refresh round (20 s here) later.
TEST_F(Guards, AReleaseBehindARacesLoserStillFreesTheName) {
  {
    auto alice = TestClient::online(a_->port(), "alice");
    ASSERT_TRUE(claim_of("alice"));
    put("alice", kOtherNode);
  }
  EXPECT_TRUE(eventually([&] { return !claim_of("alice"); }, 8s))
      << "the claim was left behind the loser's write: "
      << claim_of("alice").value_or(std::make_pair(std::string(), std::uint64_t{0})).first;
}

// A claim of a's dead run, rewritten by another node before a's watcher acts on it, stays;
// one left as the dead run wrote it is deleted.
TEST_F(Guards, ADeadRunsClaimIsDeletedOnlyAsThatRunLeftIt) {
  const std::uint64_t stale = put("erin", kDeadRunOfA);
  std::uint64_t revision = 0;
  ASSERT_EQ(kvStore_UpdateString(&revision, bucket_.kv.get(), claim_key("erin").c_str(), kOtherNode.c_str(), stale), NATS_OK);
  put("marker", kDeadRunOfA);  // a's watcher handles claims in order: once this is gone, erin's was tried
  ASSERT_TRUE(eventually([&] { return !claim_of("marker"); }, kClusterDeadline));
  const auto now = claim_of("erin");
  ASSERT_TRUE(now) << "a deleted, as its dead run's, a claim node b wrote since";
  EXPECT_EQ(now->first, kOtherNode);
}

// The keeper rewrites each claim every third of the TTL: the fence (which ends a session whose
// claim went unconfirmed for three quarters of it) never fires while NATS answers. Its own NATS
// server: the fixture's bucket has another TTL, which a node refuses at start.
TEST_F(Guards, ASessionOutlivesSeveralTtlsWhileNatsConfirmsItsClaim) {
  constexpr unsigned kShortTtlMs = 2'000;
  NatsServer own{"short-ttl", fresh_directory("achat-nats")};
  own.start();
  auto c = start_node("c", own.url(), kShortTtlMs);
  auto carol = TestClient::online(c->port(), "carol");
  // Nothing may come for three TTLs (a fenced session would get its error line and be closed).
  const auto line = carol.read_line(std::chrono::milliseconds(3 * kShortTtlMs));
  EXPECT_FALSE(line) << *line;
  carol.send("carol: still here\n");
  EXPECT_EQ(carol.read_line(), "from carol: still here");
}

// Publications from node "x" numbered 1 then 3: the one lost between is counted as a gap, in
// total and for x, and the lines that came are delivered.
TEST_F(Guards, APublicationLostOnTheWayIsCountedAsAGap) {
  auto bob = TestClient::online(a_->port(), "bob");
  const std::string subject = "achat.node.a";
  for (const std::uint64_t sequence : {1u, 3u}) {
    std::string payload;
    cluster::Envelope::append_header(payload, "x", "00000000000000cc", sequence);
    cluster::Envelope::append_entry(payload, "bob", "from zed: " + std::to_string(sequence) + "\n");
    ASSERT_EQ(natsConnection_Publish(bucket_.connection.get(), subject.c_str(), payload.data(), static_cast<int>(payload.size())),
              NATS_OK);
  }
  natsConnection_Flush(bucket_.connection.get());
  EXPECT_EQ(bob.read_line(), "from zed: 1");
  EXPECT_EQ(bob.read_line(), "from zed: 3");
  const std::string body = http_request(metrics_port(a_->log()), "/metrics").body;
  EXPECT_EQ(sample(body, "achat_cluster_gaps_total"), 1u) << body;
  EXPECT_EQ(sample(body, "achat_cluster_publications_missing_total"), 1u) << body;
  EXPECT_EQ(sample(body, "achat_cluster_peer_publications_missing_total{node=\"x\"}"), 1u) << body;
}

// A claim's value carries the login as its holder typed it, which every node lists in "/who":
// data from the network, so it is listed only if it passes the login rule and its uniqueness
// key is the claim's key. Node b is made up; node c calls it silent only after 12 s (and takes
// one and a half beats, 6 s, to start).
TEST_F(Guards, WhoListsAClaimsTypedLoginOnlyIfItIsALoginOfThatKey) {
  auto c = start_node("c", nats_.url(), kTtlMs, {"--node-silence-ms=12000"});
  auto alice = TestClient::online(c->port(), "alice");
  const auto claim = [&](const std::string& login, const std::string& typed) {
    std::string problem;
    const auto name = check_login(login, Limits{}.max_login_bytes, problem);
    ASSERT_TRUE(name) << problem;
    const std::string value =
        cluster::ClaimValue{cluster::ClaimOwner{"b", "00000000000000bb"}, "0123456789abcdef", 0,
                            cluster::ClaimValue::kVersion, typed}.to_value();
    std::uint64_t revision = 0;
    ASSERT_EQ(kvStore_PutString(&revision, bucket_.kv.get(), claim_key(name->unique).c_str(), value.c_str()), NATS_OK);
  };
  claim("Mallory", "Mallory");     // genuine: listed as typed
  claim("eve", "Trent");           // another login's name: not listed
  claim("zed", "zed\u202e");       // not a login (a bidi control): not listed
  // Each claim is in c's directory once a line to it gets no "not online" (the marker after it,
  // in order from one sender, comes back first).
  for (const std::string name : {"Mallory", "eve", "zed"}) {
    ASSERT_TRUE(eventually([&] {
      alice.send(name + ": probe\nalice: marker\n");
      const auto first = alice.read_line();
      if (first == "from alice: marker") return true;
      EXPECT_EQ(first, "error: not online: " + name);
      EXPECT_EQ(alice.read_line(), "from alice: marker");
      return false;
    }, kClusterDeadline)) << name << " never reached c's directory\n" << c->log();
  }
  alice.send("/who\n");
  EXPECT_EQ(alice.read_line(), "online: Mallory, alice");
}

}  // namespace
}  // namespace achat::testing
