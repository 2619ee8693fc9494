// Bad input and hostile clients: each gets a clear error line and loses nothing for anyone else.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"
#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

// Sends `bytes` without a newline in 1 MiB writes until the server stops reading.
std::size_t send_unterminated(const TestClient& client, std::size_t bytes) {
  const std::string chunk(1 << 20, 'x');
  std::size_t sent = 0;
  while (sent < bytes && client.socket().send_all(chunk)) sent += chunk.size();
  return sent;
}

TEST(Hostile, OverlongLineGetsAnErrorAndIsDisconnected) {
  Limits limits;
  limits.max_line_bytes = 1024;
  TestServer server(limits);
  auto talker = TestClient::online(server.port(), "talker");
  talker.send("talker: " + std::string(2000, 'y') + "\n");
  EXPECT_EQ(talker.read_line(), "error: line longer than 1024 bytes, disconnecting");
  EXPECT_TRUE(talker.closed_by_server());
  expect_bystanders_served(server.port());
}

TEST(Hostile, OverlongLoginIsRefusedBeforeItIsBuffered) {
  Limits limits;
  limits.max_line_bytes = 1024;
  TestServer server(limits);
  TestClient client(server.port());
  send_unterminated(client, 4 << 20);
  EXPECT_EQ(client.read_line(), "error: line longer than 1024 bytes, disconnecting");
  EXPECT_TRUE(client.closed_by_server());
  expect_bystanders_served(server.port());
}

TEST(Hostile, QuarterGigabyteWithoutNewlineCostsOneLineOfMemory) {
  ServerProcess server(server_binary(), {});
  expect_bystanders_served(server.port());
  const std::size_t before = server.rss_kib();
  TestClient flood(server.port());
  flood.send("flood\n");
  const std::size_t sent = send_unterminated(flood, 256u << 20);
  std::string tail;
  EXPECT_TRUE(flood.closed_by_server(kDeadline, &tail));
  EXPECT_EQ(tail.rfind("error: line longer than 65536 bytes, disconnecting\n", 0), 0u) << tail;
  const std::size_t peak = server.peak_rss_kib();
  std::printf("[ measured ] 256 MiB unterminated line: sent %zu KiB before the cut; server RSS %zu KiB, peak %zu KiB\n",
              sent >> 10, before, peak);
  if (kRssIsMeaningful) {
    EXPECT_LT(peak, before + 8 * 1024) << "server RSS grew by more than 8 MiB";
  }
  expect_bystanders_served(server.port());
}

TEST(Hostile, InvalidUtf8IsRefusedAndNeverForwarded) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  alice.send("bob: bad \xC0\xAF bytes\n");
  EXPECT_EQ(alice.read_line(), "error: invalid UTF-8, line dropped: \"bob: bad \\xc0\\xaf bytes\"");
  alice.send("bob: good\n");
  EXPECT_EQ(bob.read_line(), "from alice: good");  // nothing came before it
}

TEST(Hostile, EachBadLoginGetsItsReasonAndIsClosed) {
  Limits limits;
  limits.max_login_bytes = 8;
  TestServer server(limits);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\n", "login is empty"},
      {"    \n", "login is empty"},
      {"al,ice\n", "login may not contain ',' or ':'"},
      {"al:ice\n", "login may not contain ',' or ':'"},
      {"al\x01ice\n", "login may not contain control characters"},
      {"\xFF\xFE\n", "login is not valid UTF-8"},
      {"muchtoolong\n", "login longer than 8 bytes"},
  };
  for (const auto& [login, reason] : cases) {
    TestClient client(server.port());
    client.send(login);
    EXPECT_EQ(client.read_line(), "error: invalid login: " + reason + ", disconnecting") << login;
    EXPECT_TRUE(client.closed_by_server()) << login;
  }
  EXPECT_EQ(server->stats().logins_refused.load(), cases.size());
  expect_bystanders_served(server.port());
}

TEST(Hostile, SilentConnectionIsClosedAfterTheLoginTimeout) {
  Limits limits;
  limits.login_timeout_ms = 200;
  TestServer server(limits);
  TestClient silent(server.port());
  EXPECT_EQ(silent.read_line(), "error: login timeout, disconnecting");
  EXPECT_TRUE(silent.closed_by_server());
  expect_bystanders_served(server.port());
}

// Holds the first reader task that starts (a fault hook) until released. Must outlive the
// server whose config it is installed in.
class LateFirstReader {
 public:
  void install(ServerConfig& config) {
    config.faults.before_login = [this] {
      if (started_.fetch_add(1) != 0) return;
      std::unique_lock lock(mutex_);
      released_cv_.wait(lock, [&] { return released_; });
    };
  }
  bool holding() const { return started_.load() >= 1; }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    released_cv_.notify_all();
  }

 private:
  std::atomic<int> started_{0};
  std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
};

// The login deadline runs from accept, not from when a reader thread gets to run: a thread that
// starts late (a thread-start storm, a preempted thread) gives a slow-loris client no extra time.
TEST(Hostile, TheLoginDeadlineRunsFromAcceptNotFromTheReadersStart) {
  Limits limits;
  limits.login_timeout_ms = 200;
  quiet_logs();
  ServerConfig config = loopback_config(limits);
  LateFirstReader late_reader;
  late_reader.install(config);
  Server server(config);
  // Destroyed before the server: a failing assertion cannot leave the held reader unable to end.
  const struct ReleaseOnExit {
    LateFirstReader& reader;
    ~ReleaseOnExit() { reader.release(); }
  } release_on_exit{late_reader};
  server.start();
  TestClient late(server.port());
  ASSERT_TRUE(eventually([&] { return late_reader.holding(); }));
  // Accepted after `late`, served on time: when it times out, `late`'s deadline has passed too.
  TestClient witness(server.port());
  ASSERT_EQ(witness.read_line(), "error: login timeout, disconnecting");
  late.send("alice\n");  // after its deadline
  late_reader.release();
  EXPECT_EQ(late.read_line(), "error: login timeout, disconnecting");
  EXPECT_TRUE(late.closed_by_server());
}

TEST(Hostile, TooManyRecipientsIsRefused) {
  Limits limits;
  limits.max_recipients = 3;
  TestServer server(limits);
  auto alice = TestClient::online(server.port(), "alice");
  alice.send("a, b, c, d: hi\n");
  EXPECT_EQ(alice.read_line(), "error: too many recipients (limit 3), line dropped: \"a, b, c, d: hi\"");
  alice.send("alice, b, c: hi\n");
  EXPECT_EQ(alice.read_line(), "from alice: hi");
}

TEST(Hostile, SlowConsumerIsCutAndOthersKeepTheirMessages) {
  Limits limits;
  limits.max_outbound_bytes = 256 * 1024;
  TestServer server(limits);
  auto sloth = TestClient::online(server.port(), "sloth", /*receive_buffer_bytes=*/4096);
  auto flooder = TestClient::online(server.port(), "flooder");
  auto friend_ = TestClient::online(server.port(), "friend");
  // 8 MiB to each: far past the cap. The flooder keeps pace with friend (at most a window of
  // lines ahead of what friend has read), so only the client that never reads falls behind.
  constexpr int kLines = 8 * 1024;
  constexpr int kWindow = 32;
  const std::string text(1000, 'z');
  std::mutex mutex;
  std::condition_variable progress;
  int friend_got = 0;
  std::thread reader([&] {
    while (friend_.read_line() == "from flooder: " + text) {
      std::lock_guard lock(mutex);
      progress.notify_all();
      if (++friend_got == kLines) return;
    }
  });
  std::string chunk;
  for (int i = 0; i < kWindow; ++i) chunk += "sloth, friend: " + text + "\n";
  for (int sent = 0; sent < kLines; sent += kWindow) {
    std::unique_lock lock(mutex);
    const bool kept_up = progress.wait_until(lock, std::chrono::steady_clock::now() + kDeadline,
                                             [&] { return friend_got >= sent - kWindow; });
    lock.unlock();
    if (!kept_up) break;
    flooder.send(chunk);
  }
  reader.join();
  EXPECT_EQ(friend_got, kLines);
  EXPECT_TRUE(sloth.closed_by_server());
  EXPECT_EQ(server->stats().slow_consumers.load(), 1u);
  expect_bystanders_served(server.port());
}

TEST(Hostile, FloodingAClientThatNeverReadsKeepsServerMemoryBounded) {
  ServerProcess server(server_binary(), {});  // default cap: 64 MiB queued per client
  expect_bystanders_served(server.port());
  const std::size_t before = server.rss_kib();
  auto sloth = TestClient::online(server.port(), "sloth", /*receive_buffer_bytes=*/4096);
  auto flooder = TestClient::online(server.port(), "flooder");
  std::string chunk;
  for (int i = 0; i < 1024; ++i) chunk += "sloth: " + std::string(1000, 'z') + "\n";
  // Up to 256 MiB, stopping once the server has cut sloth.
  std::size_t sent = 0;
  while (sent < (256u << 20) && !server.wait_for_log("slow consumer", std::chrono::milliseconds(0))) {
    flooder.send(chunk);
    sent += chunk.size();
  }
  EXPECT_TRUE(sloth.closed_by_server());
  const std::size_t peak = server.peak_rss_kib();
  std::printf("[ measured ] slow-consumer flood: sent %zu KiB; server RSS %zu KiB before, peak %zu KiB\n",
              sent >> 10, before, peak);
  // The 64 MiB cap (which counts each line's overhead too), one batch being routed, and
  // allocator slack.
  if (kRssIsMeaningful) {
    EXPECT_LT(peak, before + (64 + 16) * 1024) << server.log();
  }
  expect_bystanders_served(server.port());
}

TEST(Hostile, FullServerRefusesWithAnErrorAndAdmitsAgainLater) {
  Limits limits;
  limits.max_clients = 3;
  TestServer server(limits);
  auto first = TestClient::online(server.port(), "first");
  {
    auto second = TestClient::online(server.port(), "second");
    auto third = TestClient::online(server.port(), "third");
    TestClient fourth(server.port());
    EXPECT_EQ(fourth.read_line(), "error: server full");
    EXPECT_TRUE(fourth.closed_by_server());
  }
  // second and third have left: their connections are released without anyone's help.
  ASSERT_TRUE(eventually([&] { return server->connections() == 1; }));
  auto again = TestClient::online(server.port(), "again");
  again.send("first: back in\n");
  EXPECT_EQ(first.read_line(), "from again: back in");
}

TEST(Hostile, ConnectionFloodPastTheLimitRefusesTheExcessOnly) {
  Limits limits;
  limits.max_clients = 100;
  TestServer server(limits);
  std::vector<TestClient> crowd;
  for (int i = 0; i < 100; ++i) crowd.push_back(TestClient::online(server.port(), "c" + std::to_string(i)));
  std::vector<TestClient> excess;
  for (int i = 0; i < 100; ++i) excess.emplace_back(server.port());
  for (auto& refused : excess) {
    EXPECT_EQ(refused.read_line(), "error: server full");
    EXPECT_TRUE(refused.closed_by_server());
  }
  EXPECT_EQ(server->stats().connections_refused.load(), 100u);
  crowd[0].send("c99: still here\n");
  EXPECT_EQ(crowd[99].read_line(), "from c0: still here");
}

TEST(Hostile, ThreadCreationFailureRefusesThatConnectionAndKeepsServing) {
  // Stacks of 1 GiB (the largest allowed) in an address space capped 256 MiB above its size:
  // every thread creation fails, as at the process's thread limit.
  ServerProcess server(server_binary(), {"--thread-stack-bytes=1073741824"});
  server.limit_address_space(256 * 1024 * 1024);
  for (int attempt = 0; attempt < 3; ++attempt) {
    TestClient client(server.port());
    EXPECT_EQ(client.read_line(), "error: server full");
    EXPECT_TRUE(client.closed_by_server());
  }
  EXPECT_TRUE(server.wait_for_log("cannot start a writer thread", kDeadline)) << server.log();
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(kDeadline), 0);
}

TEST(Hostile, FiftyResetsMidLineLeaveNoTrace) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  for (int i = 0; i < 50; ++i) {
    auto victim = TestClient::online(server.port(), "victim" + std::to_string(i));
    victim.send("alice: this never ends");
    victim.reset();
  }
  EXPECT_TRUE(eventually([&] { return server->connections() == 1; }));
  auto bob = TestClient::online(server.port(), "bob");
  bob.send("alice: hi\n");
  EXPECT_EQ(alice.read_line(), "from bob: hi");  // no fragment of the 50 half lines
}

}  // namespace
}  // namespace achat::testing
