// Bounds between nodes, made for real: a node whose broker is held back while another floods it
// stays within its memory bound and counts what it dropped; a node whose NATS socket stalls
// (the server stops reading) notices within seconds and still shuts down within a deadline.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "achat/server.h"
#include "cluster_support.h"
#include "delay_proxy.h"
#include "nats_server.h"
#include "test_server.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;

// This process's resident set, in bytes.
std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0;
  std::int64_t resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t counter(const ClusterNode& node, std::string_view name) {
  for (const ClusterCounter& c : node.counters()) {
    if (c.name == name) return c.value;
  }
  ADD_FAILURE() << "no cluster counter " << name;
  return 0;
}

// Holds a broker before each round while held (FaultHooks::before_round).
class BrokerHold {
 public:
  void install(ServerConfig& config) {
    config.faults.before_round = [this] {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !held_; });
    };
  }
  void set(bool held) {
    {
      std::lock_guard lock(mutex_);
      held_ = held;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
};

// One line of `bytes` (newline included) for `to`, numbered.
std::string flood_line(std::string_view to, std::size_t i, std::size_t bytes) {
  std::string line = std::string(to) + ": " + std::to_string(i) + " ";
  line.resize(bytes - 1, 'x');
  return line + "\n";
}

// Node a (the real binary) floods bob on node h, an in-process server whose broker is held.
// h's subscriber stops at its window, cnats's pending limits drop the rest: h's memory grows
// by a bounded amount while far more is sent, the counters say how many publications were
// dropped, and once the broker is let go bob gets what was kept, in order, and the gaps found
// in a's sequence are exactly the publications cnats dropped.
TEST(ClusterBounds, AHeldBackNodeStaysBoundedAndCountsWhatItDropped) {
  // Under a sanitizer h reads NATS so slowly (on a loaded machine) that its connection went
  // stale mid-flood and NATS lost publications on the way, uncounted here: the test measures
  // nothing then. Its threads ran under ThreadSanitizer without a report before it was skipped.
  if (!kRssIsMeaningful) GTEST_SKIP() << "memory and timing are not meaningful under sanitizers";
  NatsServer nats("bounds", fresh_directory("achat-bounds"));
  nats.start();
  auto a = start_node("a", nats.url(), 10'000);

  quiet_logs();
  ServerConfig config = loopback_config();
  config.cluster.servers = {nats.url()};
  config.cluster.node_id = "h";
  config.cluster.claim_ttl_ms = 10'000;
  BrokerHold hold;
  hold.install(config);
  Server h(config);
  const struct ReleaseOnExit {  // destroyed before the server, even when an assertion fails
    BrokerHold& hold;
    ~ReleaseOnExit() { hold.set(false); }
  } release_on_exit{hold};
  h.start();
  ASSERT_TRUE(eventually([&] { return h.cluster()->confirming_logins(); }, kClusterDeadline));
  const ClusterNode& node = *h.cluster();

  auto bob = TestClient::online(h.port(), "bob");
  auto alice = TestClient::online(a->port(), "alice");
  ASSERT_TRUE(wait_until_routable(alice, "alice", bob, "bob"));

  // 96 MiB in lines of 48 KiB: a puts two in most publications (it publishes at 64 KiB).
  constexpr std::size_t kLineBytes = 48 * 1024;
  constexpr std::size_t kLines = 2'048;
  constexpr std::int64_t kBound = 40 << 20;  // 4 MiB window + 8 MiB in cnats + allocator slack
  const std::int64_t before = resident_bytes();
  const std::uint64_t received_before = counter(node, "received");
  hold.set(true);
  std::atomic<bool> sent{false};
  std::thread flood([&] {
    for (std::size_t i = 0; i < kLines; ++i) alice.send(flood_line("bob", i, kLineBytes));
    sent = true;
  });
  const struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() { thread.join(); }
  } join_on_exit{flood};
  // Most of the flood has reached h (handed to the broker's inbox or dropped by cnats), or h
  // has already outgrown its bound (then the check below fails at once).
  std::int64_t peak = before;
  const bool arrived = eventually([&] {
    peak = std::max(peak, resident_bytes());
    return counter(node, "received") - received_before + counter(node, "slow_consumer_dropped") >=
               kLines / 2 * 3 / 4 ||
           peak - before >= kBound;
  }, 60s);
  peak = std::max(peak, resident_bytes());
  std::printf("held node: received %llu, dropped %llu publications, resident +%lld KiB\n",
              static_cast<unsigned long long>(counter(node, "received") - received_before),
              static_cast<unsigned long long>(counter(node, "slow_consumer_dropped")),
              static_cast<long long>((peak - before) / 1024));
  ASSERT_TRUE(arrived) << a->log();
  EXPECT_LT(peak - before, kBound);
  EXPECT_GT(counter(node, "slow_consumer_dropped"), 0u);
  EXPECT_GE(counter(node, "slow_consumer"), 1u);
  EXPECT_NE(node.summary().find(", slow consumer dropped "), std::string::npos) << node.summary();  // the stats line

  hold.set(false);
  ASSERT_TRUE(eventually([&] { return sent.load(); }, 60s));
  alice.send("bob: end\n");
  std::size_t got = 0;
  long last = -1;
  while (true) {
    const auto line = bob.read_line(kClusterDeadline);
    ASSERT_TRUE(line) << "after " << got << " lines";
    if (*line == "from alice: end") break;
    const long index = std::stol(line->substr(std::string("from alice: ").size()));
    ASSERT_GT(index, last) << "lines out of order";
    last = index;
    ++got;
  }
  EXPECT_LT(got, kLines);
  EXPECT_GE(counter(node, "gaps"), 1u);
  // Every publication lost on the way is one cnats dropped here, counted (the flood may still
  // have been arriving when the broker was let go: more may have been dropped since).
  EXPECT_EQ(counter(node, "publications_missing"), counter(node, "slow_consumer_dropped"));
}

// Node d reaches NATS only through a proxy, which stops reading (a server that stalls, with its
// socket open). d's user floods a user on node a, so d's writes to NATS block: the write
// deadline fails them, cnats drops the connection and d says so within seconds; what its broker
// routes meanwhile is dropped at the publisher's bound, counted; and d exits promptly on SIGTERM.
TEST(ClusterBounds, AStalledNatsSocketIsNoticedAndShutdownStaysBounded) {
  NatsServer nats("stall", fresh_directory("achat-stall"));
  nats.start();
  DelayProxy proxy(nats.port(), 0us);
  auto a = start_node("a", nats.url(), 10'000);
  auto d = start_node("d", proxy.url(), 10'000);
  auto bob = TestClient::online(a->port(), "bob");
  auto alice = TestClient::online(d->port(), "alice");
  ASSERT_TRUE(wait_until_routable(alice, "alice", bob, "bob"));

  proxy.stall();
  const auto stalled = std::chrono::steady_clock::now();
  // 32 MiB: more than the kernel's buffers on both sides of the proxy hold.
  for (std::size_t i = 0; i < 512; ++i) alice.send(flood_line("bob", i, 64 * 1024 - 64));
  EXPECT_TRUE(d->wait_for_log("d lines lost its NATS server", 15s)) << d->log();
  const auto noticed = std::chrono::steady_clock::now() - stalled;
  std::printf("stall noticed after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(noticed).count()));
  // Under a sanitizer only the deadlines above and below hold (it noticed after 6.3 s, exited
  // 7.7 s after SIGTERM, and routed too slowly to fill the publisher's bound).
  if (kRssIsMeaningful) {
    EXPECT_LT(noticed, 8s);
  }

  const auto asked = std::chrono::steady_clock::now();
  d->signal(SIGTERM);
  EXPECT_EQ(d->wait_exit(20s), 0) << d->log();
  const auto took = std::chrono::steady_clock::now() - asked;
  std::printf("shutdown took %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  if (!kRssIsMeaningful) return;
  EXPECT_LT(took, 8s) << d->log();
  EXPECT_EQ(d->log().find("overflow 0)"), std::string::npos) << d->log();
  EXPECT_NE(d->log().find("overflow "), std::string::npos) << d->log();
}

}  // namespace
}  // namespace achat::testing
