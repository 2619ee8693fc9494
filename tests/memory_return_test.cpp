// What a backlog cost is returned once it drains: a client that fell behind and caught up
// costs the server no more than before. Each test runs the real binary, builds a backlog of
// short lines behind clients with small receive buffers, lets them read everything and waits
// (with a deadline) for the server's RSS, read from /proc, to come back.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

using namespace std::chrono_literals;

// How far above its starting point the server's RSS may stay after a drain.
constexpr std::size_t kReturnedWithinKib = 4 * 1024;
// What the README's formula allows a connection outside byte accounting ("queue structures"):
// its outbox's bookkeeping and spare segments, and the broker's round buffer for it.
constexpr std::size_t kPerConnectionAllowanceKib = 8;

// 29 bytes as delivered ("from flooder: " + 14 + "\n"): 400,000 of them cost 62.8 MB by the
// byte accounting, under the 64 MiB per-client cap.
const std::string kText(14, 's');

// Reads from `client`'s socket until `lines` newlines have arrived; false on EOF or deadline.
bool read_lines(TestClient& client, std::size_t lines, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::vector<char> chunk(256 * 1024);
  std::size_t seen = 0;
  while (seen < lines) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{client.socket().fd(), POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return false;
    const long n = client.socket().receive_some(std::span<char>(chunk));
    if (n <= 0) return false;
    seen += static_cast<std::size_t>(std::count(chunk.data(), chunk.data() + n, '\n'));
  }
  return seen == lines;
}

// Sends `count` copies of `line` in large writes.
void send_lines(const TestClient& client, const std::string& line, std::size_t count) {
  constexpr std::size_t kPerWrite = 8192;
  std::string burst;
  for (std::size_t i = 0; i < std::min(count, kPerWrite); ++i) burst += line;
  for (std::size_t sent = 0; sent < count; sent += kPerWrite) {
    const std::size_t now = std::min(kPerWrite, count - sent);
    client.send(std::string_view(burst).substr(0, now * line.size()));
  }
}

// The flooder's own line comes back once everything it sent before has been routed.
void wait_until_routed(TestClient& flooder) {
  flooder.send("flooder: routed\n");
  std::optional<std::string> line;
  while ((line = flooder.read_line(60s)) && *line != "from flooder: routed") {
  }
  ASSERT_EQ(line, "from flooder: routed");
}

TEST(MemoryReturn, ABacklogOfShortLinesIsReturnedOnceTheClientHasReadIt) {
  constexpr std::size_t kLines = 400'000;
  ServerProcess server(server_binary(), {"--write-stall-ms=60000"});
  auto slow = TestClient::online(server.port(), "slow", /*receive_buffer_bytes=*/4096);
  auto flooder = TestClient::online(server.port(), "flooder");
  expect_bystanders_served(server.port());
  const std::size_t before = server.rss_kib();

  send_lines(flooder, "slow: " + kText + "\n", kLines);
  wait_until_routed(flooder);
  const std::size_t backlog = server.rss_kib();
  ASSERT_GT(backlog, before + 16 * 1024) << "no backlog formed in the server";
  ASSERT_TRUE(read_lines(slow, kLines, 60s)) << server.log();
  std::size_t after = 0;
  const bool returned = eventually([&] {
    after = server.rss_kib();
    return after <= before + kReturnedWithinKib;
  }, 10s);
  std::printf("[ measured ] %zu short lines to one slow reader: server RSS %zu KiB before, %zu KiB with the backlog, %zu KiB after it drained\n",
              kLines, before, backlog, after);
  if (kRssIsMeaningful) {
    EXPECT_TRUE(returned) << "RSS " << before << " KiB before, " << after << " KiB after";
  }
  EXPECT_EQ(server.log().find("slow consumer"), std::string::npos) << server.log();
  expect_bystanders_served(server.port());
}

TEST(MemoryReturn, BacklogsOfAHundredClientsDrainingAtOnceAreReturned) {
  // 20 million deliveries: minutes under a sanitizer, which cannot judge RSS anyway.
  if (!kRssIsMeaningful) GTEST_SKIP() << "RSS is not meaningful under sanitizers";
  constexpr int kClients = 100;
  // Each, all addressed to every client at once: 5.8 MB a client, more than the kernel's send
  // buffer takes (net.ipv4.tcp_wmem allows 4 MiB), so most of it waits in the server.
  constexpr std::size_t kLines = 200'000;
  ServerProcess server(server_binary(), {"--write-stall-ms=60000"});
  std::vector<TestClient> slow;
  std::string everyone;
  for (int i = 0; i < kClients; ++i) {
    const std::string name = "slow" + std::to_string(i);
    slow.push_back(TestClient::online(server.port(), name, /*receive_buffer_bytes=*/4096));
    everyone += (everyone.empty() ? "" : ", ") + name;
  }
  auto flooder = TestClient::online(server.port(), "flooder");
  expect_bystanders_served(server.port());
  const std::size_t before = server.rss_kib();

  send_lines(flooder, everyone + ": " + kText + "\n", kLines);
  wait_until_routed(flooder);
  const std::size_t backlog = server.rss_kib();
  ASSERT_GT(backlog, before + 64 * 1024) << "no backlogs formed in the server";
  std::vector<std::thread> readers;
  std::vector<char> complete(kClients, 0);
  for (int i = 0; i < kClients; ++i) {
    readers.emplace_back([&, i] { complete[i] = read_lines(slow[i], kLines, 120s); });
  }
  for (auto& reader : readers) reader.join();
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(complete[i]) << "client " << i;
  const std::size_t allowed = before + kReturnedWithinKib + kClients * kPerConnectionAllowanceKib;
  std::size_t after = 0;
  const bool returned = eventually([&] {
    after = server.rss_kib();
    return after <= allowed;
  }, 10s);
  std::printf("[ measured ] %d slow readers x %zu short lines: server RSS %zu KiB before, %zu KiB with the backlogs, %zu KiB after they drained\n",
              kClients, kLines, before, backlog, after);
  if (kRssIsMeaningful) {
    EXPECT_TRUE(returned) << "RSS " << before << " KiB before, " << after << " KiB after, "
                          << allowed << " KiB allowed";
  }
  expect_bystanders_served(server.port());
}

}  // namespace
}  // namespace achat::testing
