// The metrics endpoint in-process, next to a real server on loopback, scraped by a real HTTP
// client (Python's urllib): counters after a known load, the exposition format, /connz as JSON,
// 404/405/400, and scrapers that stall.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "achat/unique_fd.h"
#include "exposition.h"
#include "metrics_server.h"
#include "scraper.h"
#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

using metrics::MetricsServer;

Endpoint any_loopback_port() { return Endpoint{"127.0.0.1", 0}; }

std::string local_address(const TestClient& client) {
  return "127.0.0.1:" + std::to_string(client.socket().local_port());
}

// True once the server side of the connection from `client_port` to `server_port` has been
// accept()ed: until then /proc/net/tcp lists it with inode 0 (it has no file yet).
bool accepted(std::uint16_t server_port, std::uint16_t client_port) {
  char local[16], remote[16];
  std::snprintf(local, sizeof local, ":%04X", server_port);
  std::snprintf(remote, sizeof remote, ":%04X", client_port);
  std::ifstream table("/proc/net/tcp");
  std::string line;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local_address, remote_address, skip, inode;
    fields >> slot >> local_address >> remote_address;
    for (int i = 0; i < 6; ++i) fields >> skip;
    fields >> inode;
    if (local_address.ends_with(local) && remote_address.ends_with(remote)) return inode != "0";
  }
  return false;
}

TEST(Metrics, CountersAfterAKnownLoad) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  constexpr int kMessages = 50;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) burst += "bob: " + std::to_string(i) + "\n";
  alice.send(burst + "carol: anyone?\n");
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bob.read_line(), "from alice: " + std::to_string(i));
  ASSERT_EQ(alice.read_line(), "error: not online: carol");
  alice.send("no colon here\n");
  ASSERT_TRUE(alice.read_line().value_or("").starts_with("error: expected"));
  TestClient impostor(server.port());
  impostor.send("bob\n");
  ASSERT_TRUE(impostor.closed_by_server());
  // Lines are counted just after they are written: wait for the last count to land.
  const std::uint64_t written = 2 + kMessages + 2 + 1;  // ready echoes, messages, 2 errors, refusal
  ASSERT_TRUE(eventually([&] { return server->stats().lines_written.load() == written && server->connections() == 2; }));
  // The impostor's reader and writer park in the thread cache once its connection is released.
  ASSERT_TRUE(eventually([&] { return server->thread_counts().parked == 2; }));

  const HttpReply reply = http_request(metrics.port(), "/metrics");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = reply.body;
  EXPECT_EQ(sample(text, "achat_build_info{version=\"0.1.0\"}"), 1u);
  EXPECT_EQ(sample(text, "achat_connections_open{transport=\"tcp\"}"), 2u);
  EXPECT_EQ(sample(text, "achat_connections_open{transport=\"ws\"}"), 0u);
  EXPECT_EQ(sample(text, "achat_users_logged_in"), 2u);
  EXPECT_EQ(sample(text, "achat_client_threads"), 4u);
  EXPECT_EQ(sample(text, "achat_client_threads_parked"), 2u);
  EXPECT_EQ(sample(text, "achat_client_threads_created_total"), 6u);
  EXPECT_EQ(sample(text, "achat_client_threads_reused_total"), 0u);
  EXPECT_EQ(sample(text, "achat_queued_bytes"), 0u);
  EXPECT_EQ(sample(text, "achat_connections_accepted_total{transport=\"tcp\"}"), 3u);
  EXPECT_EQ(sample(text, "achat_connections_accepted_total{transport=\"ws\"}"), 0u);
  EXPECT_EQ(sample(text, "achat_connections_refused_total"), 0u);
  EXPECT_EQ(sample(text, "achat_logins_total"), 2u);
  EXPECT_EQ(sample(text, "achat_logins_refused_total"), 1u);
  EXPECT_EQ(sample(text, "achat_messages_accepted_total"), 2u + kMessages + 1);
  EXPECT_EQ(sample(text, "achat_deliveries_routed_total"), 2u + kMessages);
  EXPECT_EQ(sample(text, "achat_lines_written_total"), written);
  EXPECT_EQ(sample(text, "achat_lines_undeliverable_total"), 0u);
  // The malformed line; the "not online" reply (a refused login counts as a refused login).
  EXPECT_EQ(sample(text, "achat_protocol_errors_total"), 1u);
  EXPECT_EQ(sample(text, "achat_not_online_replies_total"), 1u);
  for (const char* reason : {"slow_consumer", "stalled", "error_flood", "budget"}) {
    EXPECT_EQ(sample(text, "achat_clients_cut_total{reason=\"" + std::string(reason) + "\"}"), 0u) << reason;
  }
  // Nothing moves any more: these must show exactly what the server counted.
  const Stats& stats = server->stats();
  EXPECT_EQ(sample(text, "achat_writer_wakeups_total"), stats.writer_wakeups.load());
  EXPECT_EQ(sample(text, "achat_broker_rounds_total"), stats.broker_rounds.load());
  EXPECT_EQ(sample(text, "achat_broker_events_total"), stats.broker_events.load());
  EXPECT_EQ(sample(text, "achat_log_lines_dropped_total"), stats.log_lines_dropped.load());
}

TEST(Metrics, EverySeriesHasHelpAndTypeAndCountersEndInTotal) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  const HttpReply reply = http_request(metrics.port(), "/metrics");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::regex help(R"(# HELP (\w+) \S.*)");
  const std::regex type(R"(# TYPE (\w+) (counter|gauge))");
  const std::regex series(R"((\w+)(\{\w+="[^"]*"\})? \d+(\.\d+)?)");
  std::istringstream lines(reply.body);
  std::string line, helped, typed, kind;
  int samples = 0;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_match(line, match, help)) {
      helped = match[1];
    } else if (std::regex_match(line, match, type)) {
      typed = match[1];
      kind = match[2];
      EXPECT_EQ(typed, helped) << "# TYPE without its # HELP: " << line;
    } else if (std::regex_match(line, match, series)) {
      ++samples;
      EXPECT_EQ(match[1], typed) << "series outside its family: " << line;
      EXPECT_EQ(kind == "counter", std::string(match[1]).ends_with("_total")) << line;
    } else {
      ADD_FAILURE() << "not exposition format: \"" << line << "\"";
    }
  }
  EXPECT_GE(samples, 22);
}

TEST(Metrics, LoggedInGaugeFollowsLoginsAndDepartures) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  auto logged_in = [&] { return sample(http_request(metrics.port(), "/metrics").body, "achat_users_logged_in"); };
  EXPECT_EQ(logged_in(), 0u);
  auto alice = TestClient::online(server.port(), "alice");
  {
    auto bob = TestClient::online(server.port(), "bob");
    TestClient anonymous(server.port());  // connected, not logged in: not counted
    ASSERT_TRUE(eventually([&] { return server->connections() == 3; }));
    EXPECT_EQ(logged_in(), 2u);
  }
  ASSERT_TRUE(eventually([&] { return logged_in() == 1u; }));
  auto bob_again = TestClient::online(server.port(), "bob");
  EXPECT_EQ(logged_in(), 2u);
}

// The process_* families every Prometheus client exports, checked against what the test itself
// does to this (the server's) process: open descriptors, touch memory, burn CPU.
TEST(Metrics, ProcessFamiliesFollowTheProcess) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  auto scrape = [&] { return http_request(metrics.port(), "/metrics").body; };
  const std::string before = scrape();
  const auto start = decimal_sample(before, "process_start_time_seconds");
  ASSERT_TRUE(start.has_value()) << before;
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(*start, now + 1);
  EXPECT_GT(*start, now - 3600);
  EXPECT_GT(sample(before, "process_max_fds").value_or(0), 0u);

  constexpr int kPipes = 8;
  std::vector<UniqueFd> ends;
  for (int i = 0; i < kPipes; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ends.emplace_back(fds[0]);
    ends.emplace_back(fds[1]);
  }
  constexpr std::size_t kTouched = 64 << 20;
  std::vector<char> memory(kTouched, 1);
  volatile std::uint64_t spin = 0;
  const auto cpu_before = decimal_sample(before, "process_cpu_seconds_total");
  ASSERT_TRUE(cpu_before.has_value()) << before;
  const auto burn_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  while (std::chrono::steady_clock::now() < burn_until) spin = spin + 1;

  const std::string after = scrape();
  const std::uint64_t fds_before = sample(before, "process_open_fds").value_or(0);
  const std::uint64_t fds_after = sample(after, "process_open_fds").value_or(0);
  EXPECT_GE(fds_after, fds_before + 2 * kPipes);
  EXPECT_LE(fds_after, fds_before + 2 * kPipes + 2);
  EXPECT_GE(sample(after, "process_resident_memory_bytes").value_or(0),
            sample(before, "process_resident_memory_bytes").value_or(0) + kTouched * 9 / 10);
  EXPECT_GE(sample(after, "process_virtual_memory_bytes").value_or(0),
            sample(after, "process_resident_memory_bytes").value_or(~0ull));
  EXPECT_GE(decimal_sample(after, "process_cpu_seconds_total").value_or(0), *cpu_before + 0.2);
  EXPECT_EQ(memory[kTouched - 1], 1);
}

TEST(Metrics, ConnzListsEveryConnectionWithLoginAddressAndStart) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  auto alice = TestClient::online(server.port(), "alice");
  auto quoted = TestClient::online(server.port(), R"(b"o\b)");
  TestClient anonymous(server.port());  // connected, no login yet
  ASSERT_TRUE(eventually([&] { return server->connections() == 3; }));

  const HttpReply reply = http_request(metrics.port(), "/connz", "GET", /*as_json=*/true);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.content_type, "application/json");
  auto json = json_leaves(reply.body);
  EXPECT_EQ(json["num_connections"], "3");
  EXPECT_EQ(json["total"], "3");
  EXPECT_EQ(json["offset"], "0");
  const std::regex iso8601(R"("\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")");
  EXPECT_TRUE(std::regex_match(json["now"], iso8601)) << json["now"];
  // Listed oldest first: in the order they connected.
  const std::pair<const TestClient*, std::string> expected[] = {
      {&alice, R"("alice")"}, {&quoted, R"("b\"o\\b")"}, {&anonymous, R"("")"}};
  for (std::size_t i = 0; i < std::size(expected); ++i) {
    const std::string entry = "connections." + std::to_string(i) + ".";
    EXPECT_EQ(json[entry + "login"], expected[i].second);
    EXPECT_EQ(json[entry + "address"], "\"" + local_address(*expected[i].first) + "\"");
    EXPECT_EQ(json[entry + "transport"], "\"tcp\"");
    EXPECT_TRUE(std::regex_match(json[entry + "start"], iso8601)) << json[entry + "start"];
    EXPECT_LE(json[entry + "start"], json["now"]);
    EXPECT_EQ(json[entry + "pending_bytes"], "0");
  }
}

TEST(Metrics, ConnzPagesWithLimitAndOffset) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");

  auto page = json_leaves(http_request(metrics.port(), "/connz?limit=1&offset=1", "GET", true).body);
  EXPECT_EQ(page["num_connections"], "1");
  EXPECT_EQ(page["total"], "2");
  EXPECT_EQ(page["connections.0.login"], R"("bob")");
  EXPECT_EQ(page.count("connections.1.login"), 0u);

  auto past_the_end = json_leaves(http_request(metrics.port(), "/connz?offset=5", "GET", true).body);
  EXPECT_EQ(past_the_end["num_connections"], "0");
  EXPECT_EQ(past_the_end["connections"], "[]");

  EXPECT_EQ(http_request(metrics.port(), "/connz?limit=ten").status, 400);
}

// A label value from the network (a NATS server's name) cannot end its series or add one.
TEST(Metrics, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(metrics::label_value("nats-b"), "nats-b");
  EXPECT_EQ(metrics::label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(Metrics, HealthzIsOkForAStandaloneServer) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  const HttpReply reply = http_request(metrics.port(), "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ok\n");
  EXPECT_EQ(http_request(metrics.port(), "/healthz", "POST").status, 405);
}

TEST(Metrics, HeadGetsTheHeadersOfGetWithoutABody) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  for (const char* target : {"/metrics", "/connz"}) {
    const HttpReply head = http_request(metrics.port(), target, "HEAD");
    const HttpReply get = http_request(metrics.port(), target);
    EXPECT_EQ(head.status, 200) << target;
    EXPECT_EQ(head.content_type, get.content_type) << target;
    EXPECT_EQ(head.body, "") << target;
    EXPECT_NE(get.body, "") << target;
  }
  EXPECT_EQ(http_request(metrics.port(), "/varz", "HEAD").status, 404);
}

TEST(Metrics, UnknownPathsAre404AndOtherMethods405) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  for (const char* target : {"/", "/metric", "/metrics/x", "/connz/", "/varz"}) {
    EXPECT_EQ(http_request(metrics.port(), target).status, 404) << target;
  }
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    const HttpReply reply = http_request(metrics.port(), "/metrics", method);
    EXPECT_EQ(reply.status, 405) << method;
    EXPECT_EQ(reply.allow, "GET, HEAD") << method;
  }
  EXPECT_EQ(http_request(metrics.port(), "/connz", "POST").status, 405);
}

TEST(Metrics, AMalformedRequestIs400) {
  TestServer server;
  MetricsServer metrics(*server, any_loopback_port());
  TestClient garbage(metrics.port());
  garbage.send("GARBAGE\r\n\r\n");
  EXPECT_EQ(garbage.read_line(), "HTTP/1.1 400 Bad Request\r");
  EXPECT_TRUE(garbage.closed_by_server());
}

TEST(Metrics, AStalledScraperDelaysTheNextOnlyUntilItsTimeout) {
  TestServer server;
  constexpr auto kTimeout = std::chrono::milliseconds(500);
  MetricsServer metrics(*server, any_loopback_port(), kTimeout);
  TestClient silent(metrics.port());       // connects and sends nothing
  TestClient half_request(metrics.port());  // never finishes its headers
  half_request.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");

  // Served one at a time, in order: the scrape waits for both stalled exchanges to time out.
  const HttpReply reply = http_request(metrics.port(), "/metrics");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_LT(reply.took, 2 * kTimeout + std::chrono::seconds(2));
  std::string sent_to_silent = "unset";
  EXPECT_TRUE(silent.closed_by_server(kDeadline, &sent_to_silent));
  EXPECT_EQ(sent_to_silent, "");
  EXPECT_TRUE(half_request.closed_by_server());
}

TEST(Metrics, StopsAtOnceWhileAScraperIsStalled) {
  TestServer server;
  std::optional<MetricsServer> metrics(std::in_place, *server, any_loopback_port(), std::chrono::minutes(1));
  TestClient silent(metrics->port());
  ASSERT_TRUE(eventually([&] { return accepted(metrics->port(), silent.socket().local_port()); }));
  const auto start = std::chrono::steady_clock::now();
  metrics.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(silent.closed_by_server());
}

}  // namespace
}  // namespace achat::testing
