// Recipients: the random pattern spreads every message over all clients, never picks the
// sender or the same client twice, and a seed reproduces the same recipients.
#include "recipients.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

namespace achat::load {
namespace {

std::vector<std::uint32_t> draw(Recipients& recipients, std::uint32_t sender) {
  const auto chosen = recipients.next(sender);
  return {chosen.begin(), chosen.end()};
}

TEST(Recipients, NextIsTheRingAfterTheSender) {
  Recipients recipients(10, 3, Pattern::kNext, 1, false);
  EXPECT_EQ(draw(recipients, 8), (std::vector<std::uint32_t>{9, 0, 1}));
  EXPECT_EQ(draw(recipients, 8), (std::vector<std::uint32_t>{9, 0, 1}));
}

TEST(Recipients, RandomPicksDistinctClientsOtherThanTheSender) {
  constexpr std::uint32_t kClients = 12;
  Recipients recipients(kClients, 5, Pattern::kRandom, 1, false);
  for (int round = 0; round < 2000; ++round) {
    const std::uint32_t sender = static_cast<std::uint32_t>(round) % kClients;
    const auto chosen = draw(recipients, sender);
    ASSERT_EQ(chosen.size(), 5u);
    ASSERT_EQ(std::set<std::uint32_t>(chosen.begin(), chosen.end()).size(), 5u) << "repeated";
    for (const std::uint32_t client : chosen) {
      ASSERT_LT(client, kClients);
      ASSERT_NE(client, sender);
    }
  }
}

TEST(Recipients, AllOthersWhenKIsEveryoneElse) {
  Recipients recipients(50, 49, Pattern::kRandom, 1, false);
  auto chosen = draw(recipients, 7);
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::uint32_t> others;
  for (std::uint32_t client = 0; client < 50; ++client) {
    if (client != 7) others.push_back(client);
  }
  EXPECT_EQ(chosen, others);
}

TEST(Recipients, IncludeSelfLetsTheSenderBeDrawn) {
  Recipients recipients(6, 6, Pattern::kRandom, 1, true);
  auto chosen = draw(recipients, 2);
  std::sort(chosen.begin(), chosen.end());
  EXPECT_EQ(chosen, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5}));

  Recipients one_each(6, 1, Pattern::kRandom, 1, true);
  bool drew_self = false;
  for (int round = 0; round < 600 && !drew_self; ++round) drew_self = draw(one_each, 2)[0] == 2;
  EXPECT_TRUE(drew_self);
}

// Every other client is drawn about equally often, and equally often in first place (the
// order on the line is random too).
TEST(Recipients, SpreadsEvenlyOverClientsAndPositions) {
  constexpr std::uint32_t kClients = 20;
  constexpr int kDraws = 20000;
  Recipients recipients(kClients, 3, Pattern::kRandom, 1, false);
  std::vector<int> anywhere(kClients, 0);
  std::vector<int> first(kClients, 0);
  for (int round = 0; round < kDraws; ++round) {
    const auto chosen = draw(recipients, 0);
    ++first[chosen[0]];
    for (const std::uint32_t client : chosen) ++anywhere[client];
  }
  EXPECT_EQ(anywhere[0], 0);
  const double expected_anywhere = kDraws * 3.0 / (kClients - 1);  // ~3158, sd ~51
  const double expected_first = kDraws * 1.0 / (kClients - 1);     // ~1053, sd ~31
  for (std::uint32_t client = 1; client < kClients; ++client) {
    EXPECT_NEAR(anywhere[client], expected_anywhere, expected_anywhere * 0.15) << client;
    EXPECT_NEAR(first[client], expected_first, expected_first * 0.25) << client;
  }
}

// Sender i's j-th message has the same recipients whatever order the senders send in, so a run
// is reproducible although its timing is not.
TEST(Recipients, SameSeedSameRecipientsWhateverTheInterleaving) {
  Recipients alternating(100, 3, Pattern::kRandom, 42, false);
  Recipients one_after_another(100, 3, Pattern::kRandom, 42, false);
  std::vector<std::vector<std::uint32_t>> a_of_0, a_of_1, b_of_0, b_of_1;
  for (int j = 0; j < 50; ++j) {
    a_of_0.push_back(draw(alternating, 0));
    a_of_1.push_back(draw(alternating, 1));
  }
  for (int j = 0; j < 50; ++j) b_of_1.push_back(draw(one_after_another, 1));
  for (int j = 0; j < 50; ++j) b_of_0.push_back(draw(one_after_another, 0));
  EXPECT_EQ(a_of_0, b_of_0);
  EXPECT_EQ(a_of_1, b_of_1);
}

TEST(Recipients, AnotherSeedOtherRecipients) {
  Recipients seed_1(100, 3, Pattern::kRandom, 1, false);
  Recipients seed_2(100, 3, Pattern::kRandom, 2, false);
  int same = 0;
  for (int j = 0; j < 50; ++j) same += draw(seed_1, 0) == draw(seed_2, 0) ? 1 : 0;
  EXPECT_LT(same, 5);
}

}  // namespace
}  // namespace achat::load
