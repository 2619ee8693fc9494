// Crew: every spawned thread runs and is joined exactly once, even while join_all() races
// spawn() from other threads (run under TSan by scripts/test.sh).
#include "achat/crew.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace achat {
namespace {

constexpr std::size_t kStackBytes = 256 * 1024;

TEST(Crew, JoinAllRacingSpawnJoinsEveryThreadOnce) {
  constexpr int kSpawners = 4;
  constexpr int kThreadsEach = 250;
  std::atomic<int> ran{0};
  {
    Crew crew(kStackBytes);
    std::atomic<bool> spawning{true};
    std::thread joiner([&] {
      while (spawning.load()) crew.join_all();
    });
    std::vector<std::thread> spawners;
    for (int s = 0; s < kSpawners; ++s) {
      spawners.emplace_back([&] {
        for (int i = 0; i < kThreadsEach; ++i) crew.spawn("test", [&] { ran.fetch_add(1); });
      });
    }
    for (auto& spawner : spawners) spawner.join();
    spawning.store(false);
    joiner.join();
    crew.join_all();
    EXPECT_EQ(crew.running(), 0u);
  }
  EXPECT_EQ(ran.load(), kSpawners * kThreadsEach);
}

TEST(Crew, JoinAllWaitsForAThreadSpawnedWhileItWaits) {
  Crew crew(kStackBytes);
  std::atomic<bool> release{false};
  std::atomic<bool> second_ran{false};
  crew.spawn("first", [&] {
    while (!release.load()) std::this_thread::yield();
  });
  std::thread late_spawner([&] {
    crew.spawn("second", [&] { second_ran.store(true); });
    release.store(true);
  });
  crew.join_all();  // the first thread cannot end before the second was spawned
  EXPECT_TRUE(second_ran.load());
  EXPECT_EQ(crew.running(), 0u);
  late_spawner.join();
}

TEST(Crew, AThrowingBodyEndsOnlyItsOwnThread) {
  Crew crew(kStackBytes);
  std::atomic<bool> survivor_ran{false};
  crew.spawn("thrower", [] { throw std::runtime_error("boom"); });
  crew.spawn("survivor", [&] { survivor_ran.store(true); });
  crew.join_all();
  EXPECT_TRUE(survivor_ran.load());
}

}  // namespace
}  // namespace achat
