// Flow control between a reader and the broker (Connection::wait_to_hand_over / routed): a
// reader whose handed-over events the broker has not handled reaches the bound and waits, and
// so stops reading its socket, until the broker routes some of them.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "achat/connection.h"
#include "achat/queue_budget.h"
#include "test_client.h"

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

}  // namespace
}  // namespace achat
