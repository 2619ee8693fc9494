// --metrics-listen on the real binary: off by default, served when asked (also from
// ACHAT_METRICS_LISTEN), and stopped before the server drains on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "achat/socket.h"
#include "server_options.h"
#include "scraper.h"
#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

TEST(MetricsOption, OffByDefault) {
  std::string error;
  const auto options = parse_server_options({}, error, [](const char*) -> const char* { return nullptr; });
  ASSERT_TRUE(options) << error;
  EXPECT_FALSE(options->metrics_listen);
}

TEST(MetricsOption, FromTheCommandLineOrTheEnvironmentCommandLineWins) {
  std::string error;
  auto environment = [](const char* name) -> const char* {
    return std::string(name) == "ACHAT_METRICS_LISTEN" ? "0.0.0.0:9100" : nullptr;
  };
  const auto from_environment = parse_server_options({}, error, environment);
  ASSERT_TRUE(from_environment) << error;
  EXPECT_EQ(from_environment->metrics_listen->to_string(), "0.0.0.0:9100");

  const auto from_command_line = parse_server_options({"--metrics-listen", "127.0.0.1:9200"}, error, environment);
  ASSERT_TRUE(from_command_line) << error;
  EXPECT_EQ(from_command_line->metrics_listen->to_string(), "127.0.0.1:9200");
}

TEST(MetricsOption, RejectsAnAddressThatIsNotHostPort) {
  std::string error;
  EXPECT_FALSE(parse_server_options({"--metrics-listen=localhost"}, error));
  EXPECT_EQ(error, "option --metrics-listen bad address \"localhost\": expected HOST:PORT, "
                   "[IPv6]:PORT or :PORT");
  const auto finished = run_to_completion(server_binary(), {"--metrics-listen=:99999"});
  EXPECT_EQ(finished.status, 2) << finished.out;
}

TEST(MetricsBinary, AMetricsPortInUseIsNamedBeforeTheSummaryAndExitsOne) {
  const Socket taken = Socket::listen_on(Endpoint{"127.0.0.1", 0}, 1);
  const std::string address = "127.0.0.1:" + std::to_string(taken.local_port());
  const auto run = run_to_completion(server_binary(), {"--metrics-listen=" + address});
  EXPECT_EQ(run.status, 1) << run.out;
  const auto named = run.out.find("critical metrics: cannot serve on " + address +
                                  " (--metrics-listen): bind " + address + ": Address already in use");
  ASSERT_NE(named, std::string::npos) << run.out;
  EXPECT_LT(named, run.out.find("stopped: ")) << run.out;  // reported before the summary
}

TEST(MetricsBinary, NotServedUnlessAsked) {
  ServerProcess server(server_binary(), {});
  auto alice = TestClient::online(server.port(), "alice");  // the server is up and serving
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  EXPECT_EQ(server.log().find("metrics"), std::string::npos) << server.log();
}

TEST(MetricsBinary, ServedWhenAskedAndStoppedBeforeTheDrain) {
  ServerProcess server(server_binary(), {"--metrics-listen=127.0.0.1:0"});
  ASSERT_TRUE(server.wait_for_log(kMetricsServedOn, kDeadline)) << server.log();
  auto alice = TestClient::online(server.port(), "alice");
  const HttpReply reply = http_request(metrics_port(server.log()), "/metrics");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(sample(reply.body, "achat_build_info{version=\"0.1.0\"}"), 1u);
  EXPECT_EQ(sample(reply.body, "achat_logins_total"), 1u);

  server.signal(SIGTERM);
  EXPECT_TRUE(alice.closed_by_server());
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  const std::string log = server.log();
  const auto metrics_stopped = log.find("metrics stopped");
  ASSERT_NE(metrics_stopped, std::string::npos) << log;
  EXPECT_LT(log.find("shutting down"), metrics_stopped) << log;
  EXPECT_LT(metrics_stopped, log.find("disconnected: server shutdown")) << log;
  EXPECT_LT(metrics_stopped, log.find("stopped: connections")) << log;
}

}  // namespace
}  // namespace achat::testing
