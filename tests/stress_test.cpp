// Thousands of clients at once (two server threads each), every delivery checked.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

TEST(Stress, TwoThousandClientsEachDeliverToTheirNeighbours) {
  constexpr int kClients = 2000;
  constexpr int kRecipients = 3;
  constexpr int kMessages = 5;
  TestServer server;
  auto name = [](int i) { return "s" + std::to_string(i % kClients); };
  std::vector<TestClient> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) clients.push_back(TestClient::online(server.port(), name(i)));
  EXPECT_GE(server->threads(), 2u * kClients);

  for (int i = 0; i < kClients; ++i) {
    std::string recipients = name(i + 1);
    for (int k = 2; k <= kRecipients; ++k) recipients += ", " + name(i + k);
    std::string burst;
    for (int m = 0; m < kMessages; ++m) burst += recipients + ": " + std::to_string(m) + "\n";
    clients[static_cast<std::size_t>(i)].send(burst);
  }
  for (int i = 0; i < kClients; ++i) {
    std::map<std::string, int> next;  // per sender: the sequence number expected next
    for (int n = 0; n < kRecipients * kMessages; ++n) {
      const auto line = clients[static_cast<std::size_t>(i)].read_line();
      ASSERT_TRUE(line) << name(i) << " got " << n << " lines";
      const auto colon = line->find(": ");
      const std::string sender = line->substr(5, colon - 5);
      ASSERT_EQ(line->substr(colon + 2), std::to_string(next[sender]++)) << *line;
    }
    for (int k = 1; k <= kRecipients; ++k) EXPECT_EQ(next[name(i + kClients - k)], kMessages);
  }
  EXPECT_EQ(server->stats().deliveries_routed.load(),
            static_cast<std::uint64_t>(kClients) * (1 + kRecipients * kMessages));
}

}  // namespace
}  // namespace achat::testing
