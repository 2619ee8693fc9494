// DeliveryLedger: every way a server can get a delivery wrong is refused, the closed-loop
// window holds until all recipients have a message, and a lost delivery is reported.
#include "delivery_ledger.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace achat::load {
namespace {

using Verdict = DeliveryLedger::Verdict;
using Clients = std::vector<std::uint32_t>;

TEST(DeliveryLedger, AcceptsEachAddressedDeliveryOnceInAnyOrderAcrossRecipients) {
  DeliveryLedger ledger(4, 2, 8);
  EXPECT_EQ(ledger.on_send(0, Clients{1, 2}), 0u);
  EXPECT_EQ(ledger.on_send(0, Clients{2, 3}), 1u);
  EXPECT_EQ(ledger.on_delivery(0, 2, 0), Verdict::kAccepted);
  EXPECT_EQ(ledger.on_delivery(0, 3, 1), Verdict::kAccepted);  // before 1 got message 0
  EXPECT_EQ(ledger.on_delivery(0, 2, 1), Verdict::kAccepted);
  ASSERT_TRUE(ledger.first_undelivered().has_value());
  EXPECT_EQ(ledger.first_undelivered()->recipient, 1u);
  EXPECT_EQ(ledger.on_delivery(0, 1, 0), Verdict::kAccepted);
  EXPECT_FALSE(ledger.first_undelivered().has_value());
  EXPECT_EQ(ledger.sent(0), 2u);
}

TEST(DeliveryLedger, RefusesWhatWasNeverSentOrNotAddressed) {
  DeliveryLedger ledger(4, 2, 8);
  ledger.on_send(0, Clients{1, 2});
  EXPECT_EQ(ledger.on_delivery(0, 1, 1), Verdict::kNeverSent);
  EXPECT_EQ(ledger.on_delivery(1, 0, 0), Verdict::kNeverSent);
  EXPECT_EQ(ledger.on_delivery(0, 3, 0), Verdict::kNotAddressed);
}

TEST(DeliveryLedger, RefusesADuplicate) {
  DeliveryLedger ledger(4, 2, 8);
  ledger.on_send(0, Clients{1, 2});
  EXPECT_EQ(ledger.on_delivery(0, 1, 0), Verdict::kAccepted);
  EXPECT_EQ(ledger.on_delivery(0, 1, 0), Verdict::kDuplicate);
  EXPECT_EQ(ledger.on_delivery(0, 2, 0), Verdict::kAccepted);
  EXPECT_EQ(ledger.on_delivery(0, 2, 0), Verdict::kAlreadyComplete);
}

TEST(DeliveryLedger, RefusesAMessageOvertakenByALaterOneOfThePair) {
  DeliveryLedger ledger(4, 1, 8);
  ledger.on_send(0, Clients{1});
  ledger.on_send(0, Clients{2});
  ledger.on_send(0, Clients{1});
  EXPECT_EQ(ledger.on_delivery(0, 2, 1), Verdict::kAccepted);  // another pair: no order
  EXPECT_EQ(ledger.on_delivery(0, 1, 2), Verdict::kAccepted);
  EXPECT_EQ(ledger.on_delivery(0, 1, 0), Verdict::kReordered);
}

TEST(DeliveryLedger, ReportsTheOldestLostDelivery) {
  DeliveryLedger ledger(4, 1, 8);
  ledger.on_send(2, Clients{3});
  ledger.on_send(2, Clients{1});
  EXPECT_EQ(ledger.on_delivery(2, 1, 1), Verdict::kAccepted);
  const auto lost = ledger.first_undelivered();
  ASSERT_TRUE(lost.has_value());
  EXPECT_EQ(lost->sender, 2u);
  EXPECT_EQ(lost->recipient, 3u);
  EXPECT_EQ(lost->seq, 0u);
}

// In flight = not yet received by ALL recipients; the oldest holds the window.
TEST(DeliveryLedger, WindowHoldsUntilEveryRecipientHasTheOldestMessage) {
  DeliveryLedger ledger(3, 2, 2);
  ledger.on_send(0, Clients{1, 2});
  ledger.on_send(0, Clients{1, 2});
  EXPECT_FALSE(ledger.can_send(0));
  EXPECT_EQ(ledger.on_delivery(0, 1, 0), Verdict::kAccepted);
  EXPECT_EQ(ledger.on_delivery(0, 1, 1), Verdict::kAccepted);
  EXPECT_FALSE(ledger.can_send(0));  // 0 still misses recipient 2
  EXPECT_EQ(ledger.on_delivery(0, 2, 0), Verdict::kAccepted);
  EXPECT_TRUE(ledger.can_send(0));
  EXPECT_EQ(ledger.on_send(0, Clients{2, 1}), 2u);
  EXPECT_FALSE(ledger.can_send(0));  // 1 still misses recipient 2
  EXPECT_EQ(ledger.on_delivery(0, 2, 1), Verdict::kAccepted);
  EXPECT_TRUE(ledger.can_send(0));
}

// Open loop: no window, so the record of messages in flight grows with them, and the checks
// hold across the growth; thousands of pairs exercise the pair index's growth too.
TEST(DeliveryLedger, OpenLoopKeepsCheckingAcrossGrowth) {
  constexpr std::uint32_t kClients = 300;
  constexpr std::uint64_t kMessages = 40;
  DeliveryLedger ledger(kClients, 2, 0);
  auto recipients_of = [&](std::uint32_t sender, std::uint64_t seq) {
    return Clients{static_cast<std::uint32_t>((sender + 1 + seq) % kClients),
                   static_cast<std::uint32_t>((sender + 2 + 3 * seq) % kClients)};
  };
  for (std::uint32_t sender = 0; sender < kClients; ++sender) {
    for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
      ASSERT_TRUE(ledger.can_send(sender));
      ASSERT_EQ(ledger.on_send(sender, recipients_of(sender, seq)), seq);
    }
  }
  for (std::uint32_t sender = 0; sender < kClients; ++sender) {
    for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
      const Clients to = recipients_of(sender, seq);  // they differ by 1 + 2 seq: odd, never 300
      ASSERT_EQ(ledger.on_delivery(sender, to[1], seq), Verdict::kAccepted) << sender << " " << seq;
      ASSERT_EQ(ledger.on_delivery(sender, to[0], seq), Verdict::kAccepted) << sender << " " << seq;
    }
  }
  EXPECT_FALSE(ledger.first_undelivered().has_value());
  EXPECT_EQ(ledger.on_delivery(5, recipients_of(5, 0)[0], 0), Verdict::kAlreadyComplete);
}

}  // namespace
}  // namespace achat::load
