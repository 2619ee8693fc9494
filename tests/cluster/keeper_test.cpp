// The keeper and its refresher against a real nats-server a millisecond's round trip away:
// thousands of claims kept alive, a released claim deleted with its latest revision, and each
// rewrite's outcome. Also the publisher's age limit and its refusal to buffer while
// disconnected, against a real nats-server.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/claim_book.h"
#include "cluster/claim_record.h"
#include "cluster/claim_refresher.h"
#include "cluster/claims_bucket.h"
#include "cluster/envelope.h"
#include "cluster/keeper.h"
#include "cluster/publisher.h"
#include "cluster_support.h"
#include "delay_proxy.h"
#include "nats_server.h"

namespace achat::cluster {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kRequestTimeout = 2s;
// Half of a 1 ms round trip, as between a node and a NATS server across a network (the proxy's
// own hand-offs add about a quarter of a millisecond more).
constexpr std::chrono::microseconds kOneWayDelay = 500us;
const std::string kOwner = ClaimOwner{"keeper-test", "0123456789abcdef"}.to_value();

std::string key_of(kvEntry* entry) { return kvEntry_Key(entry); }

// A watch on the whole bucket, after its current contents have been passed to `replayed`; null
// if it could not be opened or the replay did not end in time.
KvWatcherHandle replay(kvStore* kv, const std::function<void(kvEntry*)>& replayed) {
  kvWatcher* raw = nullptr;
  if (kvStore_WatchAll(&raw, kv, nullptr) != NATS_OK) return nullptr;
  KvWatcherHandle watcher(raw);
  while (true) {
    kvEntry* entry = nullptr;
    if (kvWatcher_Next(&entry, watcher.get(), testing::kClusterDeadline.count()) != NATS_OK) return nullptr;
    if (!entry) return watcher;  // the end-of-replay marker
    const KvEntryHandle owned(entry);
    replayed(entry);
  }
}

// Passes each change to `changed` until it returns true; false if the deadline passes first.
bool follow(kvWatcher* watcher, const std::function<bool(kvEntry*)>& changed,
            std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    kvEntry* entry = nullptr;
    if (kvWatcher_Next(&entry, watcher, left.count()) != NATS_OK) return false;
    const KvEntryHandle owned(entry);
    if (entry && changed(entry)) return true;
  }
}

// How many of `keys` are not in the bucket with `value` as their latest write (each read on its
// own, so a claim rewritten meanwhile still counts as there).
std::size_t missing(kvStore* kv, const std::vector<std::string>& keys, const std::string& value) {
  std::size_t count = 0;
  for (const auto& key : keys) {
    kvEntry* raw = nullptr;
    const natsStatus status = kvStore_Get(&raw, kv, key.c_str());
    const KvEntryHandle entry(raw);
    if (status != NATS_OK ||
        std::string_view(static_cast<const char*>(kvEntry_Value(entry.get())),
                         static_cast<std::size_t>(kvEntry_ValueLen(entry.get()))) != value) {
      ++count;
    }
  }
  return count;
}

NatsConnectionHandle connect(const std::string& url) {
  natsOptions* raw_options = nullptr;
  if (natsOptions_Create(&raw_options) != NATS_OK) return nullptr;
  const NatsOptionsHandle options(raw_options);
  natsOptions_SetURL(options.get(), url.c_str());
  natsOptions_SetSendAsap(options.get(), true);  // as a node's connection
  natsConnection* connection = nullptr;
  if (natsConnection_Connect(&connection, options.get()) != NATS_OK) return nullptr;
  return NatsConnectionHandle(connection);
}

// One nats-server; the keeper and its refresher reach it through a DelayProxy, as a node
// reaches NATS across a network, while the test makes its claims and reads the bucket directly.
class KeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.start();
    proxy_.emplace(server_.port(), kOneWayDelay);
    direct_ = connect(server_.url());
    delayed_ = connect(proxy_->url());
    ASSERT_TRUE(direct_ && delayed_);
  }

  void TearDown() override {
    book_.stop();
    if (keeper_.joinable()) keeper_.join();
    refresher_.reset();
    bucket_.reset();
    direct_bucket_.reset();
    kv_.reset();
    js_.reset();
    delayed_.reset();
    direct_.reset();
    proxy_.reset();
  }

  void open_bucket(std::chrono::milliseconds ttl) {
    direct_bucket_.emplace(direct_.get(), ttl, kRequestTimeout);
    ASSERT_TRUE(testing::eventually([&] { return direct_bucket_->bind(); }, testing::kClusterDeadline));
    bucket_.emplace(delayed_.get(), ttl, kRequestTimeout);
    ASSERT_TRUE(bucket_->bind());
    refresher_.emplace(delayed_.get(), kRequestTimeout);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, direct_.get(), nullptr), NATS_OK);
    js_.reset(js);
    kvStore* kv = nullptr;
    ASSERT_EQ(js_KeyValue(&kv, js_.get(), kClaimsBucket), NATS_OK);
    kv_.reset(kv);
  }

  void start_keeper(std::chrono::milliseconds ttl) {
    keeper_ = std::thread(Keeper{book_, *bucket_, *refresher_, delayed_.get(), ttl, kRequestTimeout, stats_});
  }

  // As a login does: creates the claim, then holds it.
  std::optional<ClaimBook::Id> claim(const std::string& key) {
    std::uint64_t revision = 0;
    const auto sent = ClaimBook::Clock::now();
    if (direct_bucket_->create(key, kOwner, revision) != ClaimOutcome::done) return std::nullopt;
    return book_.hold({key, revision, direct_bucket_->epoch(), kOwner}, sent);
  }

  testing::NatsServer server_{"keeper", testing::fresh_directory("achat-keeper")};
  std::optional<testing::DelayProxy> proxy_;
  NatsConnectionHandle direct_;
  NatsConnectionHandle delayed_;
  JetStreamHandle js_;
  KvStoreHandle kv_;
  std::optional<ClaimsBucket> direct_bucket_;
  std::optional<ClaimsBucket> bucket_;  // the keeper's
  std::optional<ClaimRefresher> refresher_;
  ClaimBook book_;
  ClusterStats stats_;
  std::thread keeper_;
};

TEST_F(KeeperTest, KeepsTenThousandClaimsAliveOneMillisecondAway) {
  // One request at a time, a round of them would take over 10 s: the TTL would pass between
  // two rewrites of a claim. Pipelined, a round takes well under a second.
  constexpr int kClaims = 10'000;
  constexpr auto kTtl = 9s;
  open_bucket(kTtl);
  start_keeper(kTtl);
  std::vector<std::string> keys;
  std::unordered_map<std::string, int> rewrites;
  for (int i = 0; i < kClaims; ++i) {
    keys.push_back(claim_key("user" + std::to_string(i)));
    ASSERT_TRUE(claim(keys.back())) << keys.back();
    rewrites[keys.back()] = 0;
  }

  // A rewrite each third of the TTL: six of every claim take at least two TTLs.
  constexpr int kRounds = 6;
  std::size_t behind = rewrites.size();
  const auto watcher = replay(kv_.get(), [](kvEntry*) {});
  ASSERT_TRUE(watcher);
  const bool rewritten = follow(watcher.get(), [&](kvEntry* entry) {
    const auto found = rewrites.find(key_of(entry));
    if (kvEntry_Operation(entry) == kvOp_Put && found != rewrites.end() && ++found->second == kRounds) {
      --behind;
    }
    return behind == 0;
  }, 300s);
  ASSERT_TRUE(rewritten) << behind << " claims rewritten fewer than " << kRounds << " times";

  EXPECT_EQ(missing(kv_.get(), keys, kOwner), 0u) << "of " << kClaims << " claims gone or not this node's";
  EXPECT_EQ(stats_.claims_lost.load(), 0u);
  EXPECT_EQ(book_.held().size(), keys.size());
}

TEST_F(KeeperTest, DeletesAReleasedClaimGuardedByItsLatestRevision) {
  constexpr auto kTtl = 1500ms;
  open_bucket(kTtl);
  start_keeper(kTtl);
  const std::string key = claim_key("alice");
  const auto id = claim(key);
  ASSERT_TRUE(id);
  const auto watcher = replay(kv_.get(), [](kvEntry*) {});
  ASSERT_TRUE(watcher);
  int rewrites = 0;
  ASSERT_TRUE(follow(watcher.get(), [&](kvEntry* entry) { return key_of(entry) == key && ++rewrites == 2; },
                     testing::kClusterDeadline));

  book_.release(*id);
  // A delete leaves a marker; an expiry (after a delete refused for a stale revision) leaves none.
  const bool deleted = follow(watcher.get(), [&](kvEntry* entry) {
    return key_of(entry) == key && kvEntry_Operation(entry) == kvOp_Delete;
  }, testing::kClusterDeadline);
  EXPECT_TRUE(deleted);
  EXPECT_EQ(stats_.releases_failed.load(), 0u);
}

// A rewrite NATS applied but whose acknowledgement never came leaves the keeper one revision
// behind: its next rewrite conflicts, and the claim (still this run's value) must be adopted,
// not counted lost and left to expire.
TEST_F(KeeperTest, AdoptsItsOwnClaimRewrittenWithoutItsKnowledge) {
  constexpr auto kTtl = 1500ms;
  open_bucket(kTtl);
  const std::string key = claim_key("alice");
  ASSERT_TRUE(claim(key));
  std::string value;
  std::uint64_t revision = 0;
  ASSERT_EQ(direct_bucket_->read(key, value, revision), ClaimOutcome::done);
  ASSERT_EQ(direct_bucket_->refresh(key, kOwner, revision), ClaimOutcome::done);  // the lost one
  const auto watcher = replay(kv_.get(), [](kvEntry*) {});
  ASSERT_TRUE(watcher);
  start_keeper(kTtl);
  int rewrites = 0;
  const bool kept = follow(watcher.get(), [&](kvEntry* entry) {
    return key_of(entry) == key && kvEntry_Operation(entry) == kvOp_Put && ++rewrites == 2;
  }, testing::kClusterDeadline);
  EXPECT_TRUE(kept) << "the keeper stopped rewriting the claim";
  EXPECT_EQ(stats_.claims_lost.load(), 0u);
  EXPECT_EQ(book_.held().size(), 1u);
}

// The other side of adoption: once the claim was deleted (as a stale-run cleanup or a release
// would) and another node took the name, it is not this run's to keep, even though nothing
// expired. The keeper counts it lost (the fence then ends its session) and never writes over it.
TEST_F(KeeperTest, AClaimDeletedAndTakenByAnotherNodeIsLostNotAdopted) {
  constexpr auto kTtl = 1500ms;
  open_bucket(kTtl);
  const std::string key = claim_key("alice");
  ASSERT_TRUE(claim(key));
  std::string value;
  std::uint64_t revision = 0;
  ASSERT_EQ(direct_bucket_->read(key, value, revision), ClaimOutcome::done);
  const std::string other = ClaimOwner{"other-node", "fedcba9876543210"}.to_value();
  ASSERT_EQ(direct_bucket_->remove(key, revision), ClaimOutcome::done);
  ASSERT_EQ(direct_bucket_->create(key, other, revision), ClaimOutcome::done);
  start_keeper(kTtl);
  EXPECT_TRUE(testing::eventually([&] { return stats_.claims_lost.load() == 1u; }, testing::kClusterDeadline));
  ASSERT_EQ(direct_bucket_->read(key, value, revision), ClaimOutcome::done);
  EXPECT_EQ(value, other);
}

// Releases go out together, like refreshes: 2,000 released at once are deleted in about one
// round trip, not 2,000 (one at a time, 1 ms away, they took over 2 s); at shutdown the rest are
// deleted within one request timeout for all of them.
TEST_F(KeeperTest, ReleasesAndShutdownDeletesAreSentAtOnce) {
  constexpr int kClaims = 4'000;
  constexpr auto kTtl = 60s;
  open_bucket(kTtl);
  std::vector<ClaimBook::Id> ids;
  std::unordered_map<std::string, bool> deleted;
  for (int i = 0; i < kClaims; ++i) {
    const std::string key = claim_key("user" + std::to_string(i));
    const auto id = claim(key);
    ASSERT_TRUE(id) << key;
    ids.push_back(*id);
    deleted[key] = false;
  }
  const auto watcher = replay(kv_.get(), [](kvEntry*) {});
  ASSERT_TRUE(watcher);
  start_keeper(kTtl);
  std::size_t left = kClaims / 2;
  const auto released = std::chrono::steady_clock::now();
  for (int i = 0; i < kClaims / 2; ++i) book_.release(ids[static_cast<std::size_t>(i)]);
  const auto until_deleted = [&] {
    return follow(watcher.get(), [&](kvEntry* entry) {
      const auto found = deleted.find(key_of(entry));
      if (kvEntry_Operation(entry) == kvOp_Delete && found != deleted.end() && !found->second) {
        found->second = true;
        --left;
      }
      return left == 0;
    }, testing::kClusterDeadline);
  };
  ASSERT_TRUE(until_deleted()) << left << " releases not deleted";
  const auto took = std::chrono::steady_clock::now() - released;
  std::printf("%d releases deleted in %lld ms\n", kClaims / 2,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, 1500ms);

  left = kClaims / 2;
  const auto stopped = std::chrono::steady_clock::now();
  book_.stop();
  keeper_.join();
  const auto shutdown = std::chrono::steady_clock::now() - stopped;
  std::printf("%d shutdown deletes in %lld ms\n", kClaims / 2,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(shutdown).count()));
  EXPECT_LT(shutdown, kRequestTimeout);
  ASSERT_TRUE(until_deleted()) << left << " claims still held at shutdown not deleted";
  EXPECT_EQ(stats_.releases_failed.load(), 0u);
}

// After NATS was away for longer than the TTL every claim has expired: the keeper takes them all
// again in about one round trip (creates sent at once), not a read and a create per claim.
TEST_F(KeeperTest, ClaimsFoundExpiredAreTakenAgainAtOnce) {
  constexpr int kClaims = 2'000;
  constexpr auto kTtl = 1500ms;
  open_bucket(kTtl);
  std::unordered_map<std::string, bool> taken;
  std::string last;
  for (int i = 0; i < kClaims; ++i) {
    last = claim_key("user" + std::to_string(i));
    ASSERT_TRUE(claim(last)) << last;
    taken[last] = false;
  }
  // The last one made is the last to expire (no watch event on 2.9: read it).
  ASSERT_TRUE(testing::eventually([&] {
    std::string value;
    std::uint64_t revision = 0;
    return direct_bucket_->read(last, value, revision) == ClaimOutcome::conflict;
  }, testing::kClusterDeadline));
  const auto watcher = replay(kv_.get(), [](kvEntry*) {});
  ASSERT_TRUE(watcher);
  const auto started = std::chrono::steady_clock::now();
  start_keeper(kTtl);  // its first round comes a third of the TTL later
  std::size_t left = kClaims;
  const bool again = follow(watcher.get(), [&](kvEntry* entry) {
    const auto found = taken.find(key_of(entry));
    if (kvEntry_Operation(entry) == kvOp_Put && found != taken.end() && !found->second) {
      found->second = true;
      --left;
    }
    return left == 0;
  }, testing::kClusterDeadline);
  ASSERT_TRUE(again) << left << " claims not taken again";
  const auto took = std::chrono::steady_clock::now() - started - kTtl / 3;
  std::printf("%d expired claims taken again in %lld ms after the first round\n", kClaims,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_LT(took, 1500ms);  // one at a time: a read and a create each, over 4 s
  EXPECT_EQ(stats_.claims_lost.load(), 0u);
  EXPECT_EQ(book_.held().size(), static_cast<std::size_t>(kClaims));
}

TEST_F(KeeperTest, RefresherReportsEachRewritesOutcome) {
  open_bucket(60s);
  const std::string current = claim_key("current");
  const std::string stale = claim_key("stale");
  const auto current_id = claim(current);
  const auto stale_id = claim(stale);
  ASSERT_TRUE(current_id && stale_id);
  const auto held = book_.held();
  for (const auto& [id, held_claim] : held) {
    const ClaimBook::Claim sent{held_claim.key, id == *stale_id ? held_claim.revision + 1'000 : held_claim.revision};
    ASSERT_TRUE(refresher_->send(id, sent, kOwner));
    EXPECT_TRUE(refresher_->in_flight(id));
    EXPECT_TRUE(refresher_->send(id, sent, kOwner));  // skipped: in flight
  }
  refresher_->wait();
  auto outcomes = refresher_->take_outcomes();
  ASSERT_EQ(outcomes.size(), 2u);
  for (const auto& outcome : outcomes) {
    EXPECT_FALSE(refresher_->in_flight(outcome.id));
    if (outcome.id == *current_id) {
      EXPECT_EQ(outcome.key, current);
      EXPECT_EQ(outcome.outcome, ClaimOutcome::done);
      EXPECT_GT(outcome.revision, outcome.sent_revision);
    } else {
      EXPECT_EQ(outcome.key, stale);
      EXPECT_EQ(outcome.outcome, ClaimOutcome::conflict);
    }
  }
}

// The publisher's promise: a line is handed to NATS within the claim TTL of being routed, or
// dropped and counted; nothing offered while the connection is down is sent after it returns.
class PublisherTest : public ::testing::Test {
 protected:
  static constexpr auto kMaxAge = 2s;

  void SetUp() override {
    server_.start();
    connection_ = connect(server_.url());
    ASSERT_TRUE(connection_);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, connection_.get(), node_subject("b").c_str()), NATS_OK);
    subscription_.reset(raw);
    ASSERT_EQ(natsConnection_Flush(connection_.get()), NATS_OK);
    auto [sender, receiver] = make_channel<Forward>();
    forwards_.emplace(std::move(sender));
    publisher_ = std::thread(Publisher{connection_.get(), std::move(receiver), window_, "a", "run1", kMaxAge, stats_});
  }

  void TearDown() override {
    forwards_.reset();  // the publisher returns
    if (publisher_.joinable()) publisher_.join();
    subscription_.reset();
    connection_.reset();
  }

  void offer(const std::string& text, std::chrono::steady_clock::time_point routed) {
    forwards_->send(Forward{"b", "bob", std::make_shared<const std::string>(text), ++message_, routed});
  }

  // The next publication for node b as (sequence, first line); nullopt if none within `wait`.
  std::optional<std::pair<std::uint64_t, std::string>> next(std::chrono::milliseconds wait) {
    natsMsg* raw = nullptr;
    if (natsSubscription_NextMsg(&raw, subscription_.get(), wait.count()) != NATS_OK) return std::nullopt;
    const NatsMsgHandle message(raw);
    const auto envelope = Envelope::decode(std::string_view(
        natsMsg_GetData(raw), static_cast<std::size_t>(natsMsg_GetDataLength(raw))));
    if (!envelope || envelope->entries.empty()) return std::nullopt;
    return std::make_pair(envelope->sequence, std::string(envelope->entries.front().line));
  }

  static std::uint64_t value(const ClusterStats::Counter& counter) { return counter.load(); }

  testing::NatsServer server_{"publisher", testing::fresh_directory("achat-publisher")};
  NatsConnectionHandle connection_;
  NatsSubscriptionHandle subscription_;
  ClusterStats stats_;
  ByteWindow window_{1 << 20};  // the offers carry no cost: nothing to bound here
  std::optional<Sender<Forward>> forwards_;
  std::uint64_t message_ = 0;
  std::thread publisher_;
};

TEST_F(PublisherTest, ALineOlderThanTheTtlIsDroppedAndCountedNeverPublished) {
  offer("from alice: stale\n", std::chrono::steady_clock::now() - kMaxAge - 1ms);
  ASSERT_TRUE(testing::eventually([&] { return value(stats_.forward_expired) == 1; }));
  // And counted against the node it was for (just after the total: waited for too).
  ASSERT_TRUE(testing::eventually([&] { return stats_.per_peer.snapshot().size() == 1; }));
  const auto losses = stats_.per_peer.snapshot();
  EXPECT_EQ(losses[0].node, "b");
  EXPECT_EQ(losses[0].dropped_for, 1u);
  EXPECT_EQ(losses[0].missing_from, 0u);
  offer("from alice: fresh\n", std::chrono::steady_clock::now());
  const auto got = next(testing::kDeadline);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first, 2u);  // the stale one's number was skipped: the receiver sees a gap
  EXPECT_EQ(got->second, "from alice: fresh\n");
  // Counted once cnats took it, which can be after the subscriber has it.
  EXPECT_TRUE(testing::eventually([&] { return value(stats_.forwarded) == 1u; }));
}

TEST_F(PublisherTest, ALineOfferedWhileDisconnectedIsNeverSentAfterTheReconnect) {
  server_.kill(SIGKILL);
  ASSERT_TRUE(testing::eventually(
      [&] { return natsConnection_Status(connection_.get()) != NATS_CONN_STATUS_CONNECTED; }));
  offer("from alice: while away\n", std::chrono::steady_clock::now());
  ASSERT_TRUE(testing::eventually([&] { return value(stats_.forward_failed) == 1; }));
  server_.start();
  ASSERT_TRUE(testing::eventually(
      [&] { return natsConnection_Status(connection_.get()) == NATS_CONN_STATUS_CONNECTED; },
      testing::kClusterDeadline));
  ASSERT_EQ(natsConnection_Flush(connection_.get()), NATS_OK);  // the subscription is back
  offer("from alice: back\n", std::chrono::steady_clock::now());
  const auto got = next(testing::kDeadline);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->second, "from alice: back\n");
  EXPECT_EQ(got->first, 2u);
}

}  // namespace
}  // namespace achat::cluster
