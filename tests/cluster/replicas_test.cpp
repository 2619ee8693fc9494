// The claims bucket on three NATS servers (three replicas): no single server whose loss stops
// logins, and still one winner per name when three nodes race for it through three servers
// (nats-server 2.9.10 alone would let two creates win, #4320; claim_arbiter.h).
// `Replicas.*` and `BucketCheck.*` run in CI; `ReplicasSoak.*` (200 races, 50 with a server killed mid-race) only
// on demand: the meson test cluster-replicas-soak (suite soak).
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "cluster_support.h"
#include "nats_server.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The default: a session survives a stream leader election (about 5 s here; the fence ends a
// session whose claim goes unconfirmed for three quarters of the TTL).
constexpr unsigned kTtlMs = 15'000;
// What the issue promises: logins succeed again on every node this soon after a server dies.
constexpr auto kRecoveryBound = 10s;

long long ms(Clock::duration duration) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

// One race: `name` sent as a login to all three nodes at once. Winners keep their sessions
// open until the race is judged, so two winners would be two live sessions of one name.
struct Race {
  std::vector<TestClient> winners;
  int taken = 0;
  int unavailable = 0;
  std::vector<std::string> other;  // answers that are none of the three
};

Race race(const std::array<std::uint16_t, 3>& ports, const std::string& name) {
  std::vector<TestClient> clients;
  for (const auto port : ports) clients.emplace_back(port);
  for (auto& client : clients) client.send(name + "\n" + name + ": ready\n");
  Race result;
  for (auto& client : clients) {
    const std::string answer = client.read_line().value_or("(nothing)");
    if (answer == "from " + name + ": ready") {
      result.winners.push_back(std::move(client));
    } else if (answer == "error: login \"" + name + "\" is already online, disconnecting" ||
               answer.starts_with("error: login \"" + name + "\" is held by node ")) {
      ++result.taken;
    } else if (answer == "error: cluster unavailable, try again") {
      ++result.unavailable;
    } else {
      result.other.push_back(answer);
    }
  }
  return result;
}

std::string describe(const Race& race) {
  std::string text = std::to_string(race.winners.size()) + " won, " + std::to_string(race.taken) +
                     " refused as taken, " + std::to_string(race.unavailable) + " unavailable";
  for (const auto& answer : race.other) text += ", got: " + answer;
  return text;
}

// Three nodes, node i connected first to NATS server i; three replicas (three servers listed).
class Replicas : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::size_t i = 0; i < 3; ++i) {
      nodes_[i] = start_node(std::string(1, static_cast<char>('a' + i)), nats_.urls_from(i), kTtlMs);
      ports_[i] = nodes_[i]->port();
    }
  }

  // The index of the server leading the claims stream.
  std::size_t leader() {
    std::string name;
    EXPECT_TRUE(eventually([&] { return !(name = nats_.bucket_holder()).empty(); }, kClusterDeadline));
    return name.empty() ? 0 : static_cast<std::size_t>(name[1] - '1');
  }

  // Every node logs a fresh name in, retrying; how long until each succeeded (from `since`).
  std::array<Clock::duration, 3> logins_back(const std::string& tag, Clock::time_point since,
                                             std::chrono::milliseconds deadline) {
    std::array<Clock::duration, 3> after{};
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string name = tag + std::string(1, static_cast<char>('a' + i));
      EXPECT_TRUE(login_when_free(ports_[i], name, deadline)) << "node " << i << "\n" << nodes_[i]->log();
      after[i] = Clock::now() - since;
    }
    return after;
  }

  // `rounds` races for one name with no fault: exactly one winner each. The winner leaves at
  // the end of its round, so every race after the first is for a name whose last record is a
  // delete: that create is the one nats-server 2.9.10 checks outside consensus (#4320); a
  // create of a name never used is checked when applied. A race that finds the name still held
  // (the last winner's release not yet applied) is run again.
  void expect_one_winner(const std::string& name, int rounds) {
    for (int round = 0; round < rounds; ++round) {
      const auto deadline = Clock::now() + kRecoveryBound;
      while (true) {
        const Race result = race(ports_, name);
        ASSERT_LE(result.winners.size(), 1u) << "round " << round << ": " << describe(result);
        if (!result.winners.empty()) {
          ASSERT_EQ(result.taken, 2) << "round " << round << ": " << describe(result);
          break;
        }
        ASSERT_EQ(result.taken, 3) << "round " << round << ": " << describe(result);
        ASSERT_LT(Clock::now(), deadline) << "round " << round << ": the name stays taken";
      }
    }
  }

  // The end of every node's log, for a failure's message.
  std::string tails() {
    std::string text;
    for (auto& node : nodes_) {
      const std::string log = node->log();
      text += "---- node log\n" + log.substr(log.size() > 6'000 ? log.size() - 6'000 : 0);
    }
    return text;
  }

  // Races the arbiter decided: a create the server let through although another came first.
  std::size_t arbitrated() {
    std::size_t count = 0;
    for (auto& node : nodes_) {
      const std::string log = node->log();
      for (auto at = log.find("came after revision"); at != std::string::npos;
           at = log.find("came after revision", at + 1)) {
        ++count;
      }
    }
    return count;
  }

  NatsCluster nats_;
  std::unique_ptr<ServerProcess> nodes_[3];
  std::array<std::uint16_t, 3> ports_{};
};

TEST_F(Replicas, TheSameNameOnThreeNodesThroughThreeServersHasOneWinner) {
  expect_one_winner("racer", 20);
  std::printf("20 races, one winner each; %zu creates let through by the server refused by the arbiter\n",
              arbitrated());
}

// The leader of the claims stream first, then another server: each time every node logs in
// again within kRecoveryBound, a session held across the kill stays (its claim is confirmed by
// the two servers left), and a race still has one winner.
TEST_F(Replicas, KillingAnyOneNatsServerLetsLoginsSucceedAgainOnEveryNodeWithinTenSeconds) {
  for (int kill = 0; kill < 2; ++kill) {
    const std::size_t holder = leader();
    const std::size_t victim = kill == 0 ? holder : (holder + 1) % 3;
    const std::string tag = "k" + std::to_string(kill);
    auto held = TestClient::online(ports_[(victim + 1) % 3], tag + "held");
    nats_[victim].kill(SIGKILL);
    const auto killed = Clock::now();
    const auto after = logins_back(tag + "back", killed, kRecoveryBound);
    std::printf("server %s killed (%s): logins back on node a after %lld ms, b %lld ms, c %lld ms\n",
                nats_[victim].name().c_str(), victim == holder ? "leader of the claims stream" : "a follower",
                ms(after[0]), ms(after[1]), ms(after[2]));
    for (const auto duration : after) EXPECT_LT(duration, kRecoveryBound);
    expect_one_winner(tag + "race", 3);
    held.send(tag + "held: still\n");
    EXPECT_EQ(held.read_line(), "from " + tag + "held: still");
    nats_[victim].start();
    // Back in the stream's group before the next kill: a race through the restarted server.
    ASSERT_TRUE(eventually([&] { return race(ports_, tag + "rejoined" + std::to_string(Clock::now().time_since_epoch().count())).winners.size() == 1; },
                           kClusterDeadline));
  }
}

// The claims bucket's settings are checked when a node starts.
class BucketCheck : public ::testing::Test {
 protected:
  // Makes the bucket as a-chat did before --claim-replicas: one replica, one record per key.
  void make_old_bucket(std::chrono::milliseconds ttl) {
    natsConnection* connection = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&connection, nats_[0].url().c_str()), NATS_OK);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = "achat_logins";
    config.History = 1;
    config.TTL = std::chrono::duration_cast<std::chrono::nanoseconds>(ttl).count();
    config.Replicas = 1;
    config.StorageType = js_FileStorage;
    kvStore* kv = nullptr;
    // JetStream needs a meta leader first: the cluster has just formed.
    EXPECT_TRUE(eventually([&] { return js_CreateKeyValue(&kv, js, &config) == NATS_OK; }, kClusterDeadline));
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
  }

  // The claims stream's replica count, or 0 if it cannot be read.
  std::int64_t replicas() {
    natsConnection* connection = nullptr;
    std::int64_t count = 0;
    if (natsConnection_ConnectTo(&connection, nats_[0].url().c_str()) != NATS_OK) return 0;
    jsCtx* js = nullptr;
    jsStreamInfo* info = nullptr;
    if (natsConnection_JetStream(&js, connection, nullptr) == NATS_OK &&
        js_GetStreamInfo(&info, js, "KV_achat_logins", nullptr, nullptr) == NATS_OK) {
      count = info->Config->Replicas;
    }
    jsStreamInfo_Destroy(info);
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
    return count;
  }

  NatsCluster nats_;
};

TEST_F(BucketCheck, ABucketWithAnotherTtlOrReplicaCountStopsTheStartWithExitOne) {
  auto first = start_node("a", nats_.urls_from(0), kTtlMs);
  for (const auto& options : std::vector<std::vector<std::string>>{
           {"--claim-ttl-ms", "5000"}, {"--claim-ttl-ms", std::to_string(kTtlMs), "--claim-replicas", "1"}}) {
    std::vector<std::string> args{"127.0.0.1:0", "--cluster", nats_.urls_from(1), "--node-id", "b"};
    args.insert(args.end(), options.begin(), options.end());
    const auto run = run_to_completion(server_binary(), args);
    EXPECT_EQ(run.status, 1) << run.out;
    EXPECT_NE(run.out.find("critical cluster: the claims bucket has a claim TTL of 15000 ms, 3 replica(s) and "
                           "16 message(s) per key; this node needs "),
              std::string::npos)
        << run.out;
  }
}

TEST_F(BucketCheck, TheOneReplicaBucketOfEarlierVersionsIsMigratedToThree) {
  make_old_bucket(std::chrono::milliseconds(kTtlMs));
  ASSERT_EQ(replicas(), 1);
  auto node = start_node("a", nats_.urls_from(0), kTtlMs);
  EXPECT_TRUE(node->wait_for_log("migrated the claims bucket from 1 replica to 3", kDeadline)) << node->log();
  EXPECT_EQ(replicas(), 3);
  EXPECT_TRUE(login_when_free(node->port(), "alice", kDeadline));
}

class ReplicasSoak : public Replicas {};

TEST_F(ReplicasSoak, TwoHundredRacesOfOneNameOnThreeNodesEachHaveOneWinner) {
  const auto start = Clock::now();
  expect_one_winner("soak", 200);
  std::printf("200 races, one winner each, in %lld ms; %zu creates let through by the server refused "
              "by the arbiter\n", ms(Clock::now() - start), arbitrated());
}

// A server SIGKILLed at a random moment (0-20 ms) into each race, restarted after it: never two
// winners; a race whose claimants were all told "unavailable" leaves the name free (at the
// latest after the TTL, if an undecided claim was left behind).
TEST_F(ReplicasSoak, FiftyRacesWithAServerKilledMidRaceNeverHaveTwoWinners) {
  std::mt19937 random(20261207);
  int single = 0;
  int none = 0;
  for (int round = 0; round < 50; ++round) {
    const std::size_t victim = random() % 3;
    const auto delay = std::chrono::microseconds(random() % 20'000);
    const std::string name = "kill" + std::to_string(round);
    std::thread killer([&] {
      const auto at = Clock::now() + delay;
      while (Clock::now() < at) {
      }  // a busy wait of at most 20 ms: the kill lands at a chosen moment of the race
      nats_[victim].kill(SIGKILL);
    });
    Race result = race(ports_, name);
    killer.join();
    ASSERT_LE(result.winners.size(), 1u) << "round " << round << ": " << describe(result);
    ASSERT_TRUE(result.other.empty()) << "round " << round << ": " << describe(result);
    const bool won = !result.winners.empty();
    if (!won) {
      ++none;
      // Nobody holds it: it can be taken (an undecided claim expires after the TTL).
      ASSERT_TRUE(login_when_free(ports_[round % 3], name, std::chrono::milliseconds(kTtlMs) + kRecoveryBound))
          << "round " << round << ": " << describe(result) << "; now: " << attempt_login(ports_[round % 3], name).answer
          << "\n" << tails();
    } else {
      ++single;
    }
    result.winners.clear();
    nats_[victim].start();
    const auto restarted = Clock::now();
    const auto after = logins_back("kill" + std::to_string(round) + "back", restarted, kClusterDeadline);
    ASSERT_TRUE(eventually([&] { return race(ports_, name + "again" + std::to_string(Clock::now().time_since_epoch().count())).winners.size() == 1; },
                           kClusterDeadline));
    std::printf("round %d: server n%zu killed %lld us in: %s; logins everywhere %lld ms after the restart\n",
                round, victim + 1, static_cast<long long>(delay.count()), won ? "one winner" : "no winner",
                ms(*std::max_element(after.begin(), after.end())));
  }
  std::printf("50 races with a kill: %d with one winner, %d with none (all told unavailable), 0 with two; "
              "%zu creates refused by the arbiter\n", single, none, arbitrated());
}

}  // namespace
}  // namespace achat::testing
