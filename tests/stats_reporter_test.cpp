#include "stats_reporter.h"

#include <gtest/gtest.h>

#include <string>

#include "test_client.h"
#include "test_server.h"

namespace achat {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(StatsLine, RatesHaveOneDecimalAndRatiosCoverTheInterval) {
  StatsSample previous;
  previous.routed = 100;
  previous.written = 50;
  previous.writer_wakeups = 40;
  previous.broker_rounds = 10;
  previous.broker_events = 10;
  StatsSample now = previous;
  now.at = previous.at + std::chrono::seconds(5);
  now.connections = 2;
  now.threads = 4;
  now.threads_parked = 6;
  now.threads_created = 10;
  now.threads_reused = 4;
  now.queued_bytes = 2048;
  now.logged_in = 2;
  now.routed += 7;           // 7 deliveries in 5 s
  now.written += 8;
  now.writer_wakeups += 2;   // 2 wake-ups for 8 lines
  now.broker_rounds += 4;
  now.broker_events += 10;   // 10 events in 4 rounds
  now.not_online = 3;
  now.slow_consumers = 1;
  now.log_lines_dropped = 9;
  const std::string line = stats_line(previous, now);
  for (const char* expected :
       {"stats: connections 2, threads 4, queued 2048 bytes, parked threads 6, logged in 2 | last 5.0 s: ", "routed 1.4/s",
        "written 1.6/s", "writer wake-ups per line 0.25", "broker average batch 2.50",
        "| totals: refused 0 connections and 0 logins, not online 3, cut 1 slow, 0 stalled, "
        "0 error floods, 0 over budget, log lines dropped 9, threads created 10, reused 4"}) {
    EXPECT_TRUE(contains(line, expected)) << expected << " missing from:\n" << line;
  }
}

TEST(StatsLine, AnIdleIntervalHasNoRatios) {
  StatsSample previous;
  previous.written = 10;
  StatsSample now = previous;
  now.at = previous.at + std::chrono::seconds(60);
  const std::string line = stats_line(previous, now);
  EXPECT_TRUE(contains(line, "routed 0.0/s, written 0.0/s, writer wake-ups per line -, broker average batch -"))
      << line;
}

// SIGUSR1 and SIGHUP ask for a line (peek_line) without moving the start of the periodic
// interval: the next periodic line still covers what happened before the request.
TEST(StatsReporter, ALineOnDemandDoesNotRestartTheInterval) {
  testing::TestServer server;
  StatsReporter reporter(*server);
  auto alice = testing::TestClient::online(server.port(), "alice");  // one line routed
  const std::string asked = reporter.peek_line();
  EXPECT_FALSE(contains(asked, "routed 0.0/s")) << asked;
  const std::string periodic = reporter.line();
  EXPECT_FALSE(contains(periodic, "routed 0.0/s")) << periodic;
  const std::string next = reporter.line();
  EXPECT_TRUE(contains(next, "routed 0.0/s")) << next;
}

}  // namespace
}  // namespace achat
