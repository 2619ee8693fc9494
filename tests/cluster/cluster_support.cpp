#include "cluster_support.h"

#include <gtest/gtest.h>

namespace achat::testing {

std::unique_ptr<ServerProcess> start_node(const std::string& id, const std::string& urls,
                                          unsigned claim_ttl_ms,
                                          const std::vector<std::string>& more_options) {
  std::vector<std::string> options{"--cluster", urls, "--node-id", id, "--claim-ttl-ms",
                                   std::to_string(claim_ttl_ms)};
  options.insert(options.end(), more_options.begin(), more_options.end());
  auto node = std::make_unique<ServerProcess>(server_binary(), std::move(options));
  EXPECT_TRUE(node->wait_for_log("cluster: ready", kClusterDeadline)) << node->log();
  return node;
}

LoginAttempt attempt_login(std::uint16_t port, std::string_view name) {
  TestClient client(port);
  const std::string self(name);
  client.send(self + "\n" + self + ": ready\n");
  LoginAttempt attempt;
  attempt.answer = client.read_line().value_or("");
  if (attempt.answer == "from " + self + ": ready") attempt.client.emplace(std::move(client));
  return attempt;
}

std::optional<TestClient> login_when_free(std::uint16_t port, std::string_view name,
                                          std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    auto attempt = attempt_login(port, name);
    if (attempt.client) return std::move(attempt.client);
  }
  return std::nullopt;
}

void expect_one_winner_per_race(std::uint16_t port_a, std::uint16_t port_b, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    const std::string name = "racer" + std::to_string(round);
    TestClient on_a(port_a);
    TestClient on_b(port_b);
    const std::string login = name + "\n" + name + ": ready\n";
    on_a.send(login);
    on_b.send(login);
    const auto answer_a = on_a.read_line();
    const auto answer_b = on_b.read_line();
    const std::string won = "from " + name + ": ready";
    const std::string lost = "error: login \"" + name + "\" is already online, disconnecting";
    ASSERT_TRUE((answer_a == won && answer_b == lost) || (answer_a == lost && answer_b == won))
        << "round " << round << ": a got " << answer_a.value_or("nothing") << ", b got "
        << answer_b.value_or("nothing");
  }
}

namespace {

// How long a routed probe may take to arrive before it counts as lost.
constexpr std::chrono::milliseconds kProbeWait{2'000};

}  // namespace

bool wait_until_routable(TestClient& from, std::string_view from_name, TestClient& to,
                         std::string_view to_name, std::chrono::milliseconds deadline) {
  const std::string self(from_name);
  const std::string mark = "from " + self + ": mark";
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    // The broker answers "not online" before it routes the next line, so the mark comes after.
    from.send(std::string(to_name) + ": probe\n" + self + ": mark\n");
    bool refused = false;
    for (auto line = from.read_line(); line != mark; line = from.read_line()) {
      if (!line) return false;
      refused = refused || line->rfind("error: not online", 0) == 0;
    }
    // Routed but not received: lost on the way (interest not yet propagated after a
    // reconnect, see README "What a user can lose"); try again.
    if (!refused && to.read_line(kProbeWait) == "from " + self + ": probe") return true;
  }
  return false;
}

}  // namespace achat::testing
