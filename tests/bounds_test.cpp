// No client can exhaust the server: every queued byte is bounded, every slot timed. Each test
// plays an attacker (or an unlucky busy user) against the real binary and asserts what users
// and operators see: bytes on the sockets, the log line, the server's RSS from /proc.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// Sends `chunk` until `total` bytes are sent or the server stops taking them.
std::size_t send_until_refused(const TestClient& client, const std::string& chunk, std::size_t total) {
  std::size_t sent = 0;
  while (sent < total && client.socket().send_all(chunk)) sent += chunk.size();
  return sent;
}

// A client that never reads sends 39 MB of lines that each earn an error reply. The replies
// count against its 64 KiB error budget, so it is cut after one last line, logged once, and the
// server's memory does not grow with the flood.
TEST(Bounds, ErrorFloodFromAClientThatNeverReadsIsCutOnceWithBoundedMemory) {
  ServerProcess server(server_binary(), {"--write-stall-ms=1000"});
  expect_bystanders_served(server.port());
  const std::size_t before = server.rss_kib();
  auto attacker = TestClient::online(server.port(), "attacker", /*receive_buffer_bytes=*/4096);
  std::string chunk;
  while (chunk.size() < (1u << 20)) chunk += "x\n";
  const std::size_t sent = send_until_refused(attacker, chunk, 39u << 20);
  EXPECT_TRUE(attacker.closed_by_server());
  ASSERT_TRUE(server.wait_for_log("attacker (", kDeadline));
  ASSERT_TRUE(server.wait_for_log("disconnected: too many errors", kDeadline)) << server.log();
  const std::size_t peak = server.peak_rss_kib();
  std::printf("[ measured ] error flood: sent %zu KiB before the cut; server RSS %zu KiB before, peak %zu KiB\n",
              sent >> 10, before, peak);
  EXPECT_EQ(occurrences(server.log(), "too many errors"), 1u) << server.log();
  if (kRssIsMeaningful) {
    EXPECT_LT(peak, before + 16 * 1024) << server.log();
  }
  expect_bystanders_served(server.port());
}

// The same flood from a client that reads its replies: it is told each time, never cut.
TEST(Bounds, BadLinesFromAClientThatReadsItsRepliesAreAnsweredInOrder) {
  ServerProcess server(server_binary(), {});
  auto alice = TestClient::online(server.port(), "alice");
  // 200 error replies a round, under the error budget even if none were written yet.
  for (int round = 0; round < 50; ++round) {
    std::string burst;
    for (int i = 0; i < 100; ++i) burst += "bad " + std::to_string(i) + "\nnobody: x\n";
    alice.send(burst);
    for (int i = 0; i < 100; ++i) {
      ASSERT_EQ(alice.read_line(), "error: expected \"name, name: text\", line dropped: \"bad " +
                                       std::to_string(i) + "\"");
      ASSERT_EQ(alice.read_line(), "error: not online: nobody");
    }
  }
  alice.send("alice: still here\n");
  EXPECT_EQ(alice.read_line(), "from alice: still here");
}

// One byte of login every 100 ms: the login deadline counts from accept, not per read.
TEST(Bounds, ATrickledLoginIsCutAtTheDeadline) {
  ServerProcess server(server_binary(), {"--login-timeout-ms=500"});
  TestClient trickler(server.port());
  const auto start = std::chrono::steady_clock::now();
  std::string skipped;
  bool closed = false;
  for (int bytes = 0; bytes < 100 && !closed; ++bytes) {
    trickler.socket().send_all("a");
    closed = trickler.closed_by_server(100ms, &skipped);  // paces the trickle, ends it when cut
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_EQ(skipped, "error: login timeout, disconnecting\n");
  EXPECT_LT(took, 3s);
  EXPECT_TRUE(server.wait_for_log("disconnected before login: login timeout", kDeadline)) << server.log();
}

// 16 senders each send 100 lines of 8 KiB (13 MB) at once to a client reading as fast as it
// can: it falls behind for a moment, and must not be taken for a slow consumer.
TEST(Bounds, ABurstToAReadingClientIsDeliveredNotCut) {
  ServerProcess server(server_binary(), {});
  auto reader = TestClient::online(server.port(), "reader");
  constexpr int kSenders = 16, kLines = 100;
  const std::string text(8 * 1024, 'b');
  std::vector<TestClient> senders;
  for (int s = 0; s < kSenders; ++s) senders.push_back(TestClient::online(server.port(), "s" + std::to_string(s)));
  std::vector<std::thread> threads;
  for (auto& sender : senders) {
    threads.emplace_back([&sender, &text] {
      std::string burst;
      for (int i = 0; i < kLines; ++i) burst += "reader: " + text + "\n";
      sender.send(burst);
    });
  }
  int received = 0;
  while (received < kSenders * kLines) {
    const auto line = reader.read_line();
    if (!line) break;
    ASSERT_TRUE(line->starts_with("from s") && line->ends_with(": " + text)) << line->substr(0, 40);
    ++received;
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(received, kSenders * kLines);
  EXPECT_EQ(occurrences(server.log(), "slow consumer"), 0u) << server.log();
}

// A client that stops reading is cut by the stall deadline long before the byte cap.
TEST(Bounds, AClientWithoutWriteProgressIsCutAtTheStallDeadline) {
  ServerProcess server(server_binary(), {"--write-stall-ms=300"});
  auto sloth = TestClient::online(server.port(), "sloth", /*receive_buffer_bytes=*/4096);
  auto talker = TestClient::online(server.port(), "talker");
  std::string burst;
  for (int i = 0; i < 8 * 1024; ++i) burst += "sloth: " + std::string(1000, 'z') + "\n";
  talker.send(burst);  // 8 MiB: more than the socket buffers hold, far less than the cap
  ASSERT_TRUE(server.wait_for_log("sloth (", kDeadline));
  EXPECT_TRUE(server.wait_for_log("disconnected: not reading: no write progress for 300 ms", kDeadline))
      << server.log();
  EXPECT_TRUE(sloth.closed_by_server());
  expect_bystanders_served(server.port());
}

// Many clients that never read, flooded by others: the server-wide budget holds (measured in
// RSS), the largest backlogs are cut, and everyone else keeps chatting. Each idle client first
// fills its kernel send buffer (up to net.ipv4.tcp_wmem's 4 MiB), so each gets 12 MB.
// ACHAT_BOUNDS_SLOTHS sets how many (default 20; bench/RESULTS.md records 500).
TEST(Bounds, TheServerWideBudgetHoldsAgainstManyClientsThatNeverRead) {
  const char* configured = std::getenv("ACHAT_BOUNDS_SLOTHS");
  const int sloths = configured ? std::atoi(configured) : 20;
  constexpr std::size_t kBudget = 32u << 20;
  constexpr int kLinesPerSloth = 12 * 1024;
  ServerProcess server(server_binary(), {"--max-queued-bytes=" + std::to_string(kBudget),
                                         "--write-stall-ms=60000"});
  expect_bystanders_served(server.port());
  const std::size_t before = server.rss_kib();
  std::vector<TestClient> idle;
  for (int i = 0; i < sloths; ++i) {
    idle.push_back(TestClient::online(server.port(), "sloth" + std::to_string(i), /*receive_buffer_bytes=*/4096));
  }
  auto flooder = TestClient::online(server.port(), "flooder");
  // The flooder reads what it is sent ("not online" for the sloths once they are cut) until
  // its own last line comes back: then everything it sent has been routed.
  std::atomic<bool> echoed{false};
  std::thread replies([&] {
    while (const auto line = flooder.read_line(std::chrono::seconds(60))) {
      if (*line == "from flooder: done") {
        echoed = true;
        return;
      }
    }
  });
  const std::string text(1000, 'f');
  for (int first = 0; first < sloths; first += 50) {
    std::string names;
    for (int i = first; i < std::min(sloths, first + 50); ++i) {
      names += (names.empty() ? "" : ", ") + ("sloth" + std::to_string(i));
    }
    std::string burst;
    for (int line = 0; line < 256; ++line) burst += names + ": " + text + "\n";
    for (int sent = 0; sent < kLinesPerSloth; sent += 256) flooder.send(burst);
  }
  flooder.send("flooder: done\n");
  replies.join();
  ASSERT_TRUE(echoed) << server.log();
  const std::size_t peak = server.peak_rss_kib();
  std::printf("[ measured ] %d clients that never read, 12 MB each: server RSS %zu KiB before, peak %zu KiB (budget %zu KiB)\n",
              sloths, before, peak, kBudget >> 10);
  EXPECT_GE(occurrences(server.log(), "largest backlog"), 1u) << server.log();
  if (kRssIsMeaningful) {
    EXPECT_LT(peak, before + (kBudget >> 10) + 24 * 1024) << "budget exceeded";
  }
  expect_bystanders_served(server.port());
}

// A client refused for a full server after it already sent its login and more reads the
// refusal, not a reset.
TEST(Bounds, ARefusedClientThatAlreadySentReadsTheErrorLine) {
  ServerProcess server(server_binary(), {"--max-clients=1"});
  auto first = TestClient::online(server.port(), "first");
  for (int attempt = 0; attempt < 20; ++attempt) {
    TestClient refused(server.port());
    refused.send("second\n" + std::string(32 * 1024, 'x'));
    EXPECT_EQ(refused.read_line(), "error: server full") << "attempt " << attempt;
    EXPECT_TRUE(refused.closed_by_server());
  }
  first.send("first: still here\n");
  EXPECT_EQ(first.read_line(), "from first: still here");
}

}  // namespace
}  // namespace achat::testing
