// Helpers for tests of several a-chat nodes: start a node, log in, wait until a name is
// routable from another node.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {

// Cluster formation and JetStream elections take seconds, more under sanitizers.
inline constexpr std::chrono::milliseconds kClusterDeadline = std::chrono::seconds(60);

// Starts the real binary as node `id` of the cluster at `urls` and waits until it accepts
// logins ("cluster: ready"). Fails the test if it does not. `more_options` follow the cluster's.
std::unique_ptr<ServerProcess> start_node(const std::string& id, const std::string& urls,
                                          unsigned claim_ttl_ms,
                                          const std::vector<std::string>& more_options = {});

// One login: `client` is set if the server echoed a line to itself (online); otherwise
// `answer` is the line it sent back instead ("error: ...") or empty if it sent none.
struct LoginAttempt {
  std::optional<TestClient> client;
  std::string answer;
};
LoginAttempt attempt_login(std::uint16_t port, std::string_view name);

// Logs in again and again until accepted or the deadline passes (a release or an expiry is on
// its way); nullopt if never accepted.
std::optional<TestClient> login_when_free(std::uint16_t port, std::string_view name,
                                          std::chrono::milliseconds deadline = kClusterDeadline);

// Logs `rounds` fresh names in on two nodes at once, one connection to each, and checks that
// exactly one of each pair gets in and the other is refused as a duplicate.
void expect_one_winner_per_race(std::uint16_t port_a, std::uint16_t port_b, int rounds);

// Sends `from_name`'s probe lines to `to_name` until one is routed rather than answered "not
// online" (the directory of the sender's node has learned where `to_name` is) and `to`
// receives it. False if that does not happen before the deadline.
bool wait_until_routable(TestClient& from, std::string_view from_name, TestClient& to,
                         std::string_view to_name, std::chrono::milliseconds deadline = kClusterDeadline);

}  // namespace achat::testing
