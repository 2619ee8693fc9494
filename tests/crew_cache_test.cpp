// Crew's thread cache: a thread whose body ended parks holding nothing of that body, is handed
// the next body instead of a new thread being started, is bounded in number and in idle time,
// and ends when the crew is joined.
#include "achat/crew.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "test_client.h"

namespace achat {
namespace {

using testing::eventually;

constexpr std::size_t kStackBytes = 256 * 1024;

// Bodies that run until released, so a test decides how many run at once.
class Gate {
 public:
  void open() { open_.store(true); }
  void pass() const {
    while (!open_.load()) std::this_thread::yield();
  }

 private:
  std::atomic<bool> open_{false};
};

TEST(CrewCache, AStormAfterAStormReusesEveryParkedThread) {
  constexpr std::size_t kBodies = 16;
  Crew crew(kStackBytes, kBodies);
  for (int storm = 0; storm < 2; ++storm) {
    Gate gate;
    std::atomic<std::size_t> ran{0};
    for (std::size_t i = 0; i < kBodies; ++i) {
      crew.spawn("storm", [&] {
        gate.pass();
        ran.fetch_add(1);
      });
    }
    EXPECT_EQ(crew.running(), kBodies);
    gate.open();
    ASSERT_TRUE(eventually([&] { return crew.counts().parked == kBodies; }));
    EXPECT_EQ(ran.load(), kBodies);
  }
  const CrewCounts counts = crew.counts();
  EXPECT_EQ(counts.created, kBodies);
  EXPECT_EQ(counts.reused, kBodies);
  EXPECT_EQ(counts.running, 0u);
}

TEST(CrewCache, AParkedThreadHoldsNothingOfItsBody) {
  Crew crew(kStackBytes, 4);
  for (int round = 0; round < 3; ++round) {
    auto owned = std::make_shared<int>(round);  // stands for a Connection, its fd, its senders
    std::weak_ptr<int> watch = owned;
    crew.spawn("holder", [owned = std::move(owned)] { (void)*owned; });
    ASSERT_TRUE(eventually([&] { return crew.counts().parked == 1; }));
    // Parked, so the body was destroyed before parking: nothing of it is left.
    EXPECT_TRUE(watch.expired()) << "round " << round;
  }
  EXPECT_EQ(crew.counts().created, 1u);
}

// A connection's reader and writer park side by side. The next connection's writer goes to the
// thread that last ran a writer, even when a reader parked after it, so threads keep their
// names; a thread handed another role is renamed for it.
TEST(CrewCache, AParkedThreadIsHandedTheRoleItLastRanAndIsNamedForItsRole) {
  Crew crew(kStackBytes, 4);
  struct Seen {
    boost::thread::id thread;
    std::string name;
  };
  // A body under `role` that records its thread and the thread's name, then waits at `gate`.
  auto spawn = [&crew](const std::string& role, Seen& seen, const Gate& gate) {
    crew.spawn(role, [&seen, &gate] {
      char name[16] = {};
      ::prctl(PR_GET_NAME, name);
      seen = {boost::this_thread::get_id(), name};
      gate.pass();
    });
  };
  Seen writer, reader;
  Gate writer_leaves, reader_leaves;
  spawn("writer", writer, writer_leaves);
  spawn("reader", reader, reader_leaves);
  writer_leaves.open();
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 1; }));
  reader_leaves.open();
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 2; }));  // the reader parked last

  Gate open;
  open.open();
  Seen next_writer, next_reader;
  spawn("writer", next_writer, open);
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 2; }));
  spawn("reader", next_reader, open);
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 2; }));
  EXPECT_EQ(next_writer.thread, writer.thread);
  EXPECT_EQ(next_reader.thread, reader.thread);
  for (const auto& [seen, role] : {std::pair{&writer, "writer"}, std::pair{&reader, "reader"},
                                   std::pair{&next_writer, "writer"}, std::pair{&next_reader, "reader"}}) {
    EXPECT_EQ(seen->name, role);
  }

  // Both threads handed another role at once, then a writer again: renamed each time.
  Gate others_leave;
  Seen other1, other2, writer_again;
  spawn("other", other1, others_leave);
  spawn("other", other2, others_leave);
  others_leave.open();
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 2; }));
  spawn("writer", writer_again, open);
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 2; }));
  EXPECT_EQ(other1.name, "other");
  EXPECT_EQ(other2.name, "other");
  EXPECT_EQ(writer_again.name, "writer");
  EXPECT_EQ(crew.counts().created, 2u);
}

// prestart(): threads parked before any body, handed the first bodies, and kept parked however
// long they wait; threads started beyond them still retire after the idle time.
TEST(CrewCache, PrestartedThreadsServeTheFirstBodiesAndAreNeverRetired) {
  constexpr auto kIdle = std::chrono::milliseconds(20);
  Crew crew(kStackBytes, 8, kIdle);
  crew.prestart(4);
  EXPECT_EQ(crew.counts().parked, 4u);
  EXPECT_EQ(crew.counts().created, 4u);
  Gate gate;
  for (int i = 0; i < 6; ++i) crew.spawn("body", [&] { gate.pass(); });
  EXPECT_EQ(crew.counts().created, 6u);  // the four parked ones, then two new
  EXPECT_EQ(crew.counts().reused, 4u);
  gate.open();
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 4; }));  // two retired
  // Ten idle times on, the four kept are still parked.
  EXPECT_FALSE(eventually([&] { return crew.counts().parked < 4; }, 10 * kIdle));
  crew.spawn("later", [] {});
  EXPECT_EQ(crew.counts().created, 6u);
}

TEST(CrewCache, ParksNoMoreThanTheCacheHolds) {
  constexpr std::size_t kCache = 3;
  constexpr std::size_t kBodies = 10;
  Crew crew(kStackBytes, kCache);
  Gate gate;
  for (std::size_t i = 0; i < kBodies; ++i) crew.spawn("many", [&] { gate.pass(); });
  gate.open();
  ASSERT_TRUE(eventually([&] { return crew.running() == 0; }));
  EXPECT_EQ(crew.counts().parked, kCache);
}

TEST(CrewCache, AThreadParkedTooLongEnds) {
  Crew crew(kStackBytes, 4, std::chrono::milliseconds(20));
  crew.spawn("brief", [] {});
  ASSERT_TRUE(eventually([&] {
    const CrewCounts counts = crew.counts();  // one snapshot: parked and running agree
    return counts.running == 0 && counts.parked == 0;
  }));
  crew.spawn("later", [] {});  // the retired thread is gone: a new one starts
  EXPECT_EQ(crew.counts().created, 2u);
  EXPECT_EQ(crew.counts().reused, 0u);
}

TEST(CrewCache, JoinAllEndsParkedThreads) {
  Crew crew(kStackBytes, 8, std::chrono::hours(1));  // parked threads never retire by themselves
  Gate gate;  // all eight run at once, so eight threads start
  for (int i = 0; i < 8; ++i) crew.spawn("parks", [&] { gate.pass(); });
  gate.open();
  ASSERT_TRUE(eventually([&] { return crew.counts().parked == 8; }));
  std::atomic<bool> joined{false};
  std::thread joiner([&] {
    crew.join_all();
    joined.store(true);
  });
  // If parked threads were not woken, join_all() would wait an hour: fail (and abort) instead.
  if (!eventually([&] { return joined.load(); })) {
    ADD_FAILURE() << "join_all() did not end the parked threads";
    std::abort();
  }
  joiner.join();
  EXPECT_EQ(crew.counts().parked, 0u);
  crew.spawn("after", [] {});  // the crew still works after a join
  crew.join_all();
  EXPECT_EQ(crew.counts().created, 9u);
}

TEST(CrewCache, NeverStartsMoreThreadsThanBodiesAliveAtOnce) {
  // Bodies alive: from just before spawn() until the body is destroyed. A thread is started
  // only when none is parked or about to park, so the threads started never exceed the most
  // bodies alive at once: the cache adds no thread to what --max-clients sizing counts. The
  // cache holds as many threads as there are bodies: with a smaller one, a thread that finds it
  // full ends, and a later spawn() rightly starts another, which this count would take for an
  // extra thread (seen under ASan: 132 started, at most 117 bodies alive, a cache of 64).
  constexpr int kBodies = 2000;
  Crew crew(kStackBytes, kBodies);
  std::atomic<int> alive{0};
  std::atomic<int> peak{0};
  struct Alive {
    std::atomic<int>* count;
    explicit Alive(std::atomic<int>& c) : count(&c) {}
    Alive(Alive&& other) noexcept : count(std::exchange(other.count, nullptr)) {}
    ~Alive() {
      if (count) count->fetch_sub(1);
    }
  };
  for (int i = 0; i < kBodies; ++i) {
    const int now = alive.fetch_add(1) + 1;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {}
    crew.spawn("churn", [token = Alive(alive)] {});
  }
  crew.join_all();
  EXPECT_LE(crew.counts().created, static_cast<std::uint64_t>(peak.load()));
  EXPECT_GT(crew.counts().reused, 0u);
}

}  // namespace
}  // namespace achat
