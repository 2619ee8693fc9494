// The writer's outbox: order, close by ownership, hand-off between threads, and that a drained
// backlog gives its memory back.
#include "achat/outbox.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace achat {
namespace {

OutboundLine make_line(std::size_t i) { return std::make_shared<const std::string>(std::to_string(i)); }

// Everything `receiver` gets until the outbox closes, as strings.
std::vector<std::string> drain(OutboxReceiver& receiver) {
  std::vector<std::string> lines;
  OutboxBatch received;
  std::array<OutboundLine, 64> batch;
  while (receiver.receive(received)) {
    while (const std::size_t n = received.take(batch)) {
      for (std::size_t i = 0; i < n; ++i) lines.push_back(*batch[i]);
    }
  }
  return lines;
}

TEST(Outbox, DeliversInOrderAndClosesWhenTheLastSenderGoes) {
  auto [sender, receiver] = make_outbox();
  std::optional<OutboxSender> copy(sender);
  std::vector<OutboundLine> round;
  for (std::size_t i = 0; i < 100; ++i) round.push_back(make_line(i));
  ASSERT_TRUE(sender.send_bulk(round));
  sender.reset();
  std::vector<OutboundLine> more{make_line(100)};
  ASSERT_TRUE(copy->send_bulk(more));
  EXPECT_TRUE(receiver.empty() == false);
  copy.reset();  // the last sender: closed, and what was sent is still received
  const auto lines = drain(receiver);
  ASSERT_EQ(lines.size(), 101u);
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i], std::to_string(i));
  OutboxBatch again;
  EXPECT_EQ(receiver.receive(again), 0u);  // closed and drained stays so
}

TEST(Outbox, ClosesDuringStackUnwinding) {
  auto [sender, receiver] = make_outbox();
  try {
    OutboxSender doomed = std::move(sender);
    std::vector<OutboundLine> round{make_line(7)};
    doomed.send_bulk(round);
    throw std::runtime_error("unwind");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(drain(receiver), std::vector<std::string>{"7"});
}

// A broker thread hands rounds of varying size to a writer that takes them as they come: every
// line arrives once, in order (run under TSan too).
TEST(Outbox, RoundsFromAnotherThreadArriveCompleteAndInOrder) {
  constexpr std::size_t kLines = 200'000;
  auto [sender, receiver] = make_outbox();
  std::thread broker([sender = std::move(sender)]() mutable {
    std::vector<OutboundLine> round;
    for (std::size_t next = 0, size = 1; next < kLines; size = size % 97 + 1) {
      round.clear();
      for (std::size_t i = 0; i < size && next < kLines; ++i) round.push_back(make_line(next++));
      ASSERT_TRUE(sender.send_bulk(round));
    }
  });
  std::size_t expected = 0;
  bool in_order = true;
  OutboxBatch received;
  std::array<OutboundLine, 64> batch;
  while (receiver.receive(received)) {
    while (const std::size_t n = received.take(batch)) {
      for (std::size_t i = 0; i < n; ++i) in_order = in_order && *batch[i] == std::to_string(expected++);
    }
  }
  broker.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(expected, kLines);
  EXPECT_GT(receiver.sleeps(), 0u);
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
std::size_t heap_in_use() { return mallinfo2().uordblks; }

// A writer that fell 400,000 lines behind and caught up holds little more than before: the
// segments are freed as it passes them, but for a few kept for reuse (moodycamel kept every
// block here: ~10 MiB).
TEST(Outbox, ADrainedBacklogKeepsOnlyAFewSpareSegments) {
  auto [sender, receiver] = make_outbox();
  const OutboundLine line = make_line(1);
  std::vector<OutboundLine> one{line};
  ASSERT_TRUE(sender.send_bulk(one));
  OutboxBatch received;
  std::array<OutboundLine, 64> batch;
  ASSERT_EQ(receiver.receive(received), 1u);
  while (received.take(batch)) batch[0].reset();
  const std::size_t idle = heap_in_use();

  std::vector<OutboundLine> round(64);
  for (int r = 0; r < 400'000 / 64; ++r) {
    for (auto& slot : round) slot = line;
    ASSERT_TRUE(sender.send_bulk(round));
  }
  round = {};
  EXPECT_GT(heap_in_use(), idle + 6'000'000);  // 400,000 slots of 16 bytes
  ASSERT_EQ(receiver.receive(received), 400'000u);
  while (const std::size_t n = received.take(batch)) {
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
  }
  one = {line};
  ASSERT_TRUE(sender.send_bulk(one));  // takes the segment handed back as a spare, if any
  ASSERT_EQ(receiver.receive(received), 1u);
  while (received.take(batch)) batch[0].reset();
  // Between receives the outbox and the batch keep a few emptied segments each for reuse.
  EXPECT_LE(heap_in_use(), idle + 2 * kOutboxSpareSegments * (sizeof(detail::OutboxSegment) + 16));
}
#endif

}  // namespace
}  // namespace achat
