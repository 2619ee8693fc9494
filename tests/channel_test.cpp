#include "achat/channel.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace achat {
namespace {

std::vector<int> drain(Receiver<int>& receiver) {
  std::vector<int> all;
  std::array<int, 16> batch;
  while (const std::size_t n = receiver.receive(batch)) all.insert(all.end(), batch.begin(), batch.begin() + n);
  return all;
}

TEST(Channel, ClosesWhenLastSenderIsDestroyed) {
  auto [sender, receiver] = make_channel<int>();
  std::optional<Sender<int>> copy(sender);
  sender.send(1);
  sender.reset();
  std::array<int, 4> batch;
  ASSERT_EQ(receiver.receive(batch), 1u);  // one sender is still alive: not closed
  EXPECT_EQ(receiver.try_receive(batch), 0u);
  EXPECT_FALSE(receiver.drained());
  copy->send(2);
  copy.reset();
  ASSERT_EQ(receiver.receive(batch), 1u);
  EXPECT_EQ(batch[0], 2);
  EXPECT_EQ(receiver.receive(batch), 0u);
  EXPECT_TRUE(receiver.drained());
  EXPECT_EQ(receiver.receive(batch), 0u);  // stays closed
}

TEST(Channel, DrainsEverythingSentBeforeClose) {
  auto [sender, receiver] = make_channel<int>();
  for (int i = 0; i < 1000; ++i) sender.send(i);
  sender.reset();
  const auto all = drain(receiver);
  ASSERT_EQ(all.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(all[static_cast<std::size_t>(i)], i);
}

TEST(Channel, BlockedReceiverWakesOnClose) {
  auto [sender, receiver] = make_channel<int>();
  std::thread closer([sender = std::move(sender)]() mutable { sender.reset(); });
  std::array<int, 4> batch;
  EXPECT_EQ(receiver.receive(batch), 0u);
  closer.join();
}

TEST(Channel, ClosesDuringStackUnwinding) {
  auto [sender, receiver] = make_channel<int>();
  std::thread producer([sender = std::move(sender)]() mutable {
    try {
      Sender<int> owned = std::move(sender);
      owned.send(7);
      throw std::runtime_error("reader failed");
    } catch (const std::runtime_error&) {
    }
  });
  EXPECT_EQ(drain(receiver), std::vector<int>{7});
  producer.join();
}

TEST(Channel, ManyProducersKeepPerProducerOrderAndLoseNothing) {
  constexpr int kProducers = 64;
  constexpr int kEach = 2000;
  auto [sender, receiver] = make_channel<int>();
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([p, copy = sender]() mutable {
      for (int i = 0; i < kEach; ++i) copy.send(p * kEach + i);
    });
  }
  sender.reset();
  std::vector<int> next(kProducers, 0);
  std::size_t total = 0;
  for (int value : drain(receiver)) {
    const int producer = value / kEach;
    EXPECT_EQ(value % kEach, next[static_cast<std::size_t>(producer)]++) << "producer " << producer;
    ++total;
  }
  EXPECT_EQ(total, static_cast<std::size_t>(kProducers * kEach));
  for (auto& producer : producers) producer.join();
}

TEST(Channel, MovedFromSenderDoesNotCountOrClose) {
  auto [sender, receiver] = make_channel<int>();
  Sender<int> moved = std::move(sender);
  sender.reset();  // NOLINT(bugprone-use-after-move): a moved-from handle is empty
  EXPECT_FALSE(sender);
  std::array<int, 4> batch;
  EXPECT_EQ(receiver.try_receive(batch), 0u);
  EXPECT_FALSE(receiver.drained());
  moved.send(3);
  moved = Sender<int>(moved);  // self-copy through a temporary keeps one live sender
  moved.reset();
  EXPECT_EQ(drain(receiver), std::vector<int>{3});
}

TEST(Channel, SendBulkDeliversInOrderBetweenSingleSends) {
  auto [sender, receiver] = make_channel<int>();
  sender.send(0);
  std::vector<int> middle{1, 2, 3, 4};
  ASSERT_TRUE(sender.send_bulk(middle));
  sender.send(5);
  sender.reset();
  EXPECT_EQ(drain(receiver), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Channel, ItemsAreDestroyedWhenChannelIsDropped) {
  auto item = std::make_shared<int>(1);
  {
    auto [sender, receiver] = make_channel<std::shared_ptr<int>>();
    sender.send(item);
    EXPECT_EQ(item.use_count(), 2);
  }
  EXPECT_EQ(item.use_count(), 1);
}

}  // namespace
}  // namespace achat
