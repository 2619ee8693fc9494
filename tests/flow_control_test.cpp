// Flow control between a reader and the broker (Connection::wait_to_hand_over / routed): a
// reader whose handed-over events the broker has not handled reaches the bound and waits, and
// so stops reading its socket, until the broker routes some of them. First the Connection alone,
// then a real server on loopback.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "achat/connection.h"
#include "achat/queue_budget.h"
#include "achat/server.h"
#include "test_client.h"
#include "test_server.h"

namespace achat {
namespace {

using testing::eventually;

constexpr std::int32_t kBound = 4096;
constexpr std::int32_t kBatch = 3000;

class FlowControl : public ::testing::Test {
 protected:
  FlowControl() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ::close(fds[1]);
    connection_.emplace(1, Socket(fds[0]), "test:1", budget_);
  }
  QueueBudget budget_{std::int64_t{1} << 30};
  std::optional<Connection> connection_;
};

TEST_F(FlowControl, ReaderWaitsAtTheBoundUntilTheBrokerRoutes) {
  connection_->wait_to_hand_over(kBatch, kBound);  // nothing outstanding: goes at once
  std::atomic<bool> handed_over{false};
  std::thread reader([&] {
    connection_->wait_to_hand_over(kBatch, kBound);  // 3000 + 3000 > 4096: must wait
    handed_over = true;
  });
  // It must not get through while the broker holds the first batch (observed for a while).
  EXPECT_FALSE(eventually([&] { return handed_over.load(); }, std::chrono::milliseconds(300)));
  connection_->routed(kBatch);
  EXPECT_TRUE(eventually([&] { return handed_over.load(); }));
  reader.join();
  connection_->routed(kBatch);
}

TEST_F(FlowControl, OneBatchOverTheBoundGoesWhenNothingIsOutstanding) {
  std::atomic<bool> handed_over{false};
  std::thread reader([&] {
    connection_->wait_to_hand_over(3 * kBound, kBound);
    handed_over = true;
  });
  EXPECT_TRUE(eventually([&] { return handed_over.load(); }));
  reader.join();
  connection_->routed(3 * kBound);
}

// The same on the wire, against a real server whose broker a fault hook holds: the sender's
// reader stops reading its socket once its unrouted lines reach --max-unrouted-bytes (so the
// sender's writes block in the kernel), and when the broker is let go every line arrives, in
// order.
class BrokerHold {
 public:
  void install(ServerConfig& config) {
    config.faults.before_round = [this] {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !held_; });
    };
  }
  void hold() { set(true); }
  void release() { set(false); }

 private:
  void set(bool held) {
    {
      std::lock_guard lock(mutex_);
      held_ = held;
    }
    changed_.notify_all();
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
};

TEST(FlowControlOnTheWire, AReaderStopsReadingAtTheBoundAndResumesWhenTheBrokerRoutes) {
  Limits limits;
  limits.max_unrouted_bytes = 64 * 1024;
  limits.max_outbound_bytes = 256 << 20;  // bob reads only at the end: not cut meanwhile
  testing::quiet_logs();
  ServerConfig config = testing::loopback_config(limits);
  BrokerHold broker;
  broker.install(config);
  Server server(config);
  const struct ReleaseOnExit {  // destroyed before the server, even when an assertion fails
    BrokerHold& broker;
    ~ReleaseOnExit() { broker.release(); }
  } release_on_exit{broker};
  server.start();
  auto alice = testing::TestClient::online(server.port(), "alice");
  auto bob = testing::TestClient::online(server.port(), "bob");

  constexpr std::size_t kLineBytes = 1024;
  constexpr std::size_t kLines = 32 * 1024;  // 32 MiB: far more than any socket buffer holds
  auto line = [&](std::size_t i) {
    std::string text = "bob: " + std::to_string(i) + " ";
    text.resize(kLineBytes - 1, 'x');
    return text;
  };
  const std::uint64_t accepted_before = server.stats().messages_accepted.load();
  broker.hold();
  std::atomic<bool> all_sent{false};
  std::thread sender([&] {
    std::string burst;
    for (std::size_t i = 0; i < kLines; ++i) burst += line(i) + "\n";
    alice.send(burst);
    all_sent = true;
  });
  // Held for a while, the sender cannot get everything out: its reader stopped reading.
  EXPECT_FALSE(eventually([&] { return all_sent.load(); }, std::chrono::seconds(2)));
  const std::uint64_t accepted = server.stats().messages_accepted.load() - accepted_before;
  EXPECT_LE(accepted * kLineBytes, limits.max_unrouted_bytes + limits.read_chunk_bytes + kLineBytes)
      << accepted << " lines handed to a broker that routed none of them";
  broker.release();
  EXPECT_TRUE(eventually([&] { return all_sent.load(); }, std::chrono::seconds(60)));
  sender.join();
  for (std::size_t i = 0; i < kLines; ++i) {
    const auto received = bob.read_line();
    ASSERT_EQ(received, "from alice: " + line(i).substr(5)) << "line " << i;
  }
}

}  // namespace
}  // namespace achat
