// Soak (not in CI): clients join, leave and reconnect under load for minutes. Clients that stay
// lose nothing, and the server's RSS returns to its baseline once the churn stops.
//   ACHAT_SOAK_SECONDS  how long to churn (default 120)
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

constexpr int kStayers = 50;
constexpr int kChurners = 200;
constexpr int kPerRound = 20;

// Threads once churn is over: the server's own five (main, accept, broker, log, refuser), the
// stayers' readers and writers, and parked ones (the thread cache keeps a left client's threads
// for the next one), which never outnumber the threads served at once (Crew). A thread leaked
// per round would pass this bound within a few rounds.
constexpr std::size_t kThreadsAtMost = 5 + 2 * (kStayers + kChurners);

std::string stayer(int i) { return "stay" + std::to_string(i % kStayers); }

// Each stayer sends kPerRound numbered lines to the next one; every stayer must then read
// exactly those, in order, ignoring whatever churners sent it meanwhile.
void stayers_round(std::vector<TestClient>& stayers, int round) {
  for (int i = 0; i < kStayers; ++i) {
    std::string burst;
    for (int m = 0; m < kPerRound; ++m) burst += stayer(i + 1) + ": " + std::to_string(round) + "." + std::to_string(m) + "\n";
    stayers[static_cast<std::size_t>(i)].send(burst);
  }
  for (int i = 0; i < kStayers; ++i) {
    const std::string prefix = "from " + stayer(i + kStayers - 1) + ": ";
    int expected = 0;
    while (expected < kPerRound) {
      const auto line = stayers[static_cast<std::size_t>(i)].read_line();
      ASSERT_TRUE(line) << stayer(i) << " lost messages in round " << round;
      if (line->rfind(prefix, 0) != 0) continue;  // from a churner
      ASSERT_EQ(line->substr(prefix.size()), std::to_string(round) + "." + std::to_string(expected)) << stayer(i);
      ++expected;
    }
  }
}

void churn(std::uint16_t port, int round) {
  std::vector<TestClient> churners;
  for (int c = 0; c < kChurners; ++c) {
    // The same logins come back every round: reconnects under a freed name.
    TestClient client(port);
    client.send("churn" + std::to_string(c) + "\n" + stayer(c) + ": hello from round " + std::to_string(round) + "\n");
    churners.push_back(std::move(client));
  }
  for (int c = 0; c < kChurners; ++c) {
    if (c % 2 == 0) {
      churners[static_cast<std::size_t>(c)].reset();
    } else {
      churners[static_cast<std::size_t>(c)].shutdown_write();
      churners[static_cast<std::size_t>(c)].closed_by_server();
    }
  }
}

TEST(Soak, ChurnLosesNothingForStayersAndMemoryReturnsToBaseline) {
  const char* seconds_text = std::getenv("ACHAT_SOAK_SECONDS");
  const auto duration = std::chrono::seconds(seconds_text ? std::atoi(seconds_text) : 120);
  ServerProcess server(server_binary(), {});
  std::vector<TestClient> stayers;
  for (int i = 0; i < kStayers; ++i) stayers.push_back(TestClient::online(server.port(), stayer(i)));
  // Baseline after one full round of churn, so allocator pools and thread stacks are warm.
  churn(server.port(), 0);
  stayers_round(stayers, 0);
  ASSERT_TRUE(eventually([&] { return server.threads() <= kThreadsAtMost; }));
  const std::size_t baseline = server.rss_kib();
  const auto until = std::chrono::steady_clock::now() + duration;
  int round = 1;
  for (; std::chrono::steady_clock::now() < until; ++round) {
    churn(server.port(), round);
    stayers_round(stayers, round);
    if (HasFatalFailure()) return;
  }
  ASSERT_TRUE(eventually([&] { return server.threads() <= kThreadsAtMost; }, std::chrono::seconds(30)))
      << server.threads() << " threads";
  const std::size_t after = server.rss_kib();
  std::printf("[ measured ] %d rounds of %d churners: RSS baseline %zu KiB, after %zu KiB\n", round,
              kChurners, baseline, after);
  if (kRssIsMeaningful) {
    EXPECT_LT(after, baseline + 8 * 1024);
  }
}

}  // namespace
}  // namespace achat::testing
