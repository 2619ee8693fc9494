#include "achat/channel.h"

#include "broker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
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

// The production shape of the broker's inbox: many senders sharing a few lanes, a spinning
// receiver. Each sender's items arrive in its order, whoever else shares its lane.
struct Tagged {
  int sender = 0;
  int seq = 0;
};

ChannelOptions shared_lanes(std::size_t lanes) {
  ChannelOptions options;
  options.shared_lanes = lanes;
  options.consumer_spin = std::chrono::microseconds(20);
  return options;
}

TEST(ChannelLanes, SixtyFourSendersOnFourLanesKeepTheirOrder) {
  constexpr int kSenders = 64;
  constexpr int kPerSender = 2'000;
  auto [sender, receiver] = make_channel<Tagged>(shared_lanes(4));
  std::vector<std::thread> threads;
  for (int id = 0; id < kSenders; ++id) {
    threads.emplace_back([id, copy = sender]() mutable {
      for (int seq = 0; seq < kPerSender;) {
        if (seq % 3 == 0 && seq + 4 <= kPerSender) {
          // A vector, not a std::array: GCC 12 at -O3 sees moodycamel's bulk copy of a fixed
          // 4-element array as writing past it (-Wstringop-overflow, a false positive).
          std::vector<Tagged> bulk{{id, seq}, {id, seq + 1}, {id, seq + 2}, {id, seq + 3}};
          ASSERT_TRUE(copy.send_bulk(bulk));
          seq += 4;
        } else {
          ASSERT_TRUE(copy.send({id, seq++}));
        }
      }
    });
  }
  sender.reset();
  std::vector<int> next(kSenders, 0);
  std::array<Tagged, 64> batch;
  std::size_t total = 0;
  while (const std::size_t n = receiver.receive(batch)) {
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(batch[i].seq, next[batch[i].sender]) << "sender " << batch[i].sender;
      ++next[batch[i].sender];
    }
    total += n;
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(total, std::size_t{kSenders} * kPerSender);
  const LaneContention lanes = receiver.lane_contention();
  EXPECT_GE(lanes.sends, std::uint64_t{kSenders} * kPerSender / 4);
  EXPECT_LE(lanes.contended, lanes.sends);
}

TEST(ChannelLanes, ClosesOnlyWhenTheLastOfManySharingSendersIsGone) {
  constexpr int kSenders = 64;
  auto [sender, receiver] = make_channel<Tagged>(shared_lanes(4));
  std::vector<std::optional<Sender<Tagged>>> copies;
  for (int id = 0; id < kSenders; ++id) copies.emplace_back(sender);
  sender.reset();
  std::vector<std::thread> threads;
  for (int id = 0; id < kSenders; ++id) {
    // Half leave by an exception: unwinding releases the handle like a normal return.
    threads.emplace_back([id, handle = std::move(*copies[id])]() mutable {
      try {
        Sender<Tagged> mine = std::move(handle);
        mine.send({id, 0});
        if (id % 2 == 0) throw std::runtime_error("reader failed");
      } catch (const std::runtime_error&) {
      }
    });
  }
  std::vector<int> seen(kSenders, 0);
  std::array<Tagged, 16> batch;
  while (const std::size_t n = receiver.receive(batch)) {
    for (std::size_t i = 0; i < n; ++i) ++seen[batch[i].sender];
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(receiver.drained());
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kSenders);
}

TEST(ChannelLanes, TheBrokersInboxSharesLanesAndSpins) {
  const ChannelOptions options = inbox_options(std::chrono::microseconds(20));
  EXPECT_GT(options.shared_lanes, 0u);
  EXPECT_GT(options.consumer_spin.count(), 0);
  auto [sender, receiver] = make_channel<Tagged>(options);
  std::vector<Sender<Tagged>> readers(1'000, sender);
  for (int id = 0; id < 1'000; ++id) readers[id].send({id, 0});
  // Every send went through a lane: a sender with a producer of its own is not counted.
  EXPECT_EQ(receiver.lane_contention().sends, 1'000u);
}

}  // namespace
}  // namespace achat
