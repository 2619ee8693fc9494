#include "achat/server_options.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace achat {
namespace {

std::optional<ServerOptions> parse(std::vector<std::string> args,
                                   std::map<std::string, std::string> environment = {},
                                   std::string* error_out = nullptr) {
  std::string error;
  auto options = parse_server_options(args, error, [&](const char* name) -> const char* {
    const auto found = environment.find(name);
    return found == environment.end() ? nullptr : found->second.c_str();
  });
  if (error_out) *error_out = error;
  return options;
}

TEST(ServerOptions, DefaultsToLoopback8080) {
  const auto options = parse({});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.endpoint.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(options->config.limits.max_line_bytes, Limits{}.max_line_bytes);
  EXPECT_EQ(options->stats_interval_s, 60u);
}

TEST(ServerOptions, ReadsAddressAndBothOptionSpellings) {
  const auto options = parse({"0.0.0.0:9000", "--max-clients=5", "--login-timeout-ms", "250",
                              "--log-level=debug", "--stats-interval", "0"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.endpoint.to_string(), "0.0.0.0:9000");
  EXPECT_EQ(options->config.limits.max_clients, 5u);
  EXPECT_EQ(options->config.limits.login_timeout_ms, 250u);
  EXPECT_EQ(options->log_level, "debug");
  EXPECT_EQ(options->stats_interval_s, 0u);
}

TEST(ServerOptions, EnvironmentSetsOptionsAndTheCommandLineWins) {
  const auto options = parse({"--max-recipients=7", "127.0.0.1:7000"},
                             {{"ACHAT_MAX_RECIPIENTS", "3"},
                              {"ACHAT_MAX_OUTBOUND_BYTES", "1024"},
                              {"ACHAT_LISTEN", "127.0.0.1:6000"},
                              {"ACHAT_LOG_LEVEL", "warn"}});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.limits.max_recipients, 7u);
  EXPECT_EQ(options->config.limits.max_outbound_bytes, 1024u);
  EXPECT_EQ(options->config.endpoint.port, 7000);
  EXPECT_EQ(options->log_level, "warn");
}

TEST(ServerOptions, RefusesBadInputWithOneLine) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--max-clients=-1"}, "option --max-clients needs a non-negative integer, got \"-1\""},
      {{"--max-clients"}, "option --max-clients needs a value"},
      {{"--bogus=1"}, "unknown option --bogus (see --help)"},
      {{"localhost"}, "bad address \"localhost\": expected HOST:PORT, [IPv6]:PORT or :PORT"},
      {{"127.0.0.1:70000"},
       "bad address \"127.0.0.1:70000\": expected HOST:PORT, [IPv6]:PORT or :PORT"},
      {{"127.0.0.1:1", "127.0.0.1:2"}, "unexpected argument: 127.0.0.1:2"},
  };
  for (const auto& [args, expected] : cases) {
    std::string error;
    EXPECT_FALSE(parse(args, {}, &error)) << args[0];
    EXPECT_EQ(error, expected);
  }
  std::string error;
  EXPECT_FALSE(parse({}, {{"ACHAT_MAX_CLIENTS", "many"}}, &error));
  EXPECT_EQ(error, "option --max-clients needs a non-negative integer, got \"many\"");
}

TEST(ServerOptions, FitsMaxClientsToProcessLimits) {
  Limits limits;
  const std::string summary = fit_to_process_limits(limits);
  EXPECT_GT(limits.max_clients, 0u);
  EXPECT_NE(summary.find("max clients " + std::to_string(limits.max_clients)), std::string::npos);
  Limits fixed;
  fixed.max_clients = 12;
  fit_to_process_limits(fixed);
  EXPECT_EQ(fixed.max_clients, 12u);
}

}  // namespace
}  // namespace achat
