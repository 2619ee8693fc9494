#include "server_options.h"

#include "achat/connection.h"

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

std::string error_of(std::vector<std::string> args, std::map<std::string, std::string> environment = {}) {
  std::string error;
  EXPECT_FALSE(parse(args, environment, &error)) << (args.empty() ? "" : args[0]);
  return error;
}

TEST(ServerOptions, DefaultsToLoopback8080) {
  const auto options = parse({});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.endpoint.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(options->config.limits.max_line_bytes, Limits{}.max_line_bytes);
  EXPECT_EQ(options->stats_interval_s, 60u);
  EXPECT_EQ(options->log.level, "info");
  EXPECT_EQ(options->log.file, "");
  EXPECT_EQ(options->log.queue_lines, 8192u);
}

TEST(ServerOptions, ReadsAddressAndBothOptionSpellings) {
  const auto options = parse({"0.0.0.0:9000", "--max-clients=5", "--login-timeout-ms", "250",
                              "--log-level=debug", "--stats-interval", "0", "--log-file",
                              "/var/log/a-chat.log", "--log-queue-lines=64"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.endpoint.to_string(), "0.0.0.0:9000");
  EXPECT_EQ(options->config.limits.max_clients, 5u);
  EXPECT_EQ(options->config.limits.login_timeout_ms, 250u);
  EXPECT_EQ(options->log.level, "debug");
  EXPECT_EQ(options->log.file, "/var/log/a-chat.log");
  EXPECT_EQ(options->log.queue_lines, 64u);
  EXPECT_EQ(options->stats_interval_s, 0u);
}

TEST(ServerOptions, VersionAndHelpFlags) {
  for (const char* flag : {"--version", "-V"}) {
    const auto options = parse({flag});
    ASSERT_TRUE(options) << flag;
    EXPECT_TRUE(options->version);
  }
  for (const char* flag : {"--help", "-h"}) {
    const auto options = parse({flag});
    ASSERT_TRUE(options) << flag;
    EXPECT_TRUE(options->help);
  }
  EXPECT_EQ(server_version(), "a-chat-server 0.1.0");
}

TEST(ServerOptions, EnvironmentSetsOptionsAndTheCommandLineWins) {
  const auto options = parse({"--max-recipients=7", "127.0.0.1:7000"},
                             {{"ACHAT_MAX_RECIPIENTS", "3"},
                              {"ACHAT_MAX_OUTBOUND_BYTES", "8192"},
                              {"ACHAT_MAX_LINE_BYTES", "4096"},  // so one line fits the cap
                              {"ACHAT_LISTEN", "127.0.0.1:6000"},
                              {"ACHAT_LOG_LEVEL", "warn"},
                              {"ACHAT_LOG_FILE", "/tmp/x.log"}});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.limits.max_recipients, 7u);
  EXPECT_EQ(options->config.limits.max_outbound_bytes, 8192u);
  EXPECT_EQ(options->config.endpoint.port, 7000);
  EXPECT_EQ(options->log.level, "warn");
  EXPECT_EQ(options->log.file, "/tmp/x.log");
}

TEST(ServerOptions, RefusesBadInputWithOneLine) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--max-clients=-1"}, "option --max-clients needs an integer from 0 to 1000000, got \"-1\""},
      {{"--max-clients"}, "option --max-clients needs a value"},
      {{"--bogus"}, "unknown option --bogus (see --help)"},
      {{"--bogus=1"}, "unknown option --bogus (see --help)"},
      {{"-x"}, "unknown option -x (see --help)"},
      {{"--log-level=loud"},
       "option --log-level needs one of trace, debug, info, warn, error, critical, off, got \"loud\""},
      {{"--log-file="}, "option --log-file needs a file path"},
      {{"localhost"}, "bad address \"localhost\": expected HOST:PORT, [IPv6]:PORT or :PORT"},
      {{"127.0.0.1:70000"},
       "bad address \"127.0.0.1:70000\": expected HOST:PORT, [IPv6]:PORT or :PORT"},
      {{"--metrics-listen=:99999"},
       "option --metrics-listen bad address \":99999\": expected HOST:PORT, [IPv6]:PORT or :PORT"},
      {{"127.0.0.1:1", "127.0.0.1:2"}, "unexpected argument: 127.0.0.1:2"},
  };
  for (const auto& [args, expected] : cases) EXPECT_EQ(error_of(args), expected);
}

TEST(ServerOptions, EveryNumberIsCheckedAgainstItsRange) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"--read-chunk-bytes=0", "option --read-chunk-bytes needs an integer from 256 to 1048576, got \"0\""},
      {"--max-line-bytes=0", "option --max-line-bytes needs an integer from 64 to 67108864, got \"0\""},
      {"--thread-stack-bytes=1",
       "option --thread-stack-bytes needs an integer from 32768 to 1073741824, got \"1\""},
      {"--max-login-bytes=0", "option --max-login-bytes needs an integer from 1 to 1024, got \"0\""},
      {"--max-recipients=0", "option --max-recipients needs an integer from 1 to 100000, got \"0\""},
      {"--max-outbound-bytes=1",
       "option --max-outbound-bytes needs an integer from 4096 to 4294967296, got \"1\""},
      {"--max-clients=1000001", "option --max-clients needs an integer from 0 to 1000000, got \"1000001\""},
      {"--login-timeout-ms=0", "option --login-timeout-ms needs an integer from 10 to 3600000, got \"0\""},
      {"--write-stall-ms=3600001",
       "option --write-stall-ms needs an integer from 10 to 3600000, got \"3600001\""},
      {"--keepalive-probes=128", "option --keepalive-probes needs an integer from 1 to 127, got \"128\""},
      {"--max-error-bytes=0", "option --max-error-bytes needs an integer from 1024 to 67108864, got \"0\""},
      {"--drain-timeout-ms=99999999999999999999",
       "option --drain-timeout-ms needs an integer from 0 to 3600000, got \"99999999999999999999\""},
      {"--broker-spin-us=1000001",
       "option --broker-spin-us needs an integer from 0 to 1000000, got \"1000001\""},
      {"--stats-interval=86401", "option --stats-interval needs an integer from 0 to 86400, got \"86401\""},
      {"--log-queue-lines=15", "option --log-queue-lines needs an integer from 16 to 1048576, got \"15\""},
      {"--max-line-bytes=+100", "option --max-line-bytes needs an integer from 64 to 67108864, got \"+100\""},
      {"--thread-cache=2000001",
       "option --thread-cache needs an integer from 0 to 2000000, got \"2000001\""},
  };
  for (const auto& [arg, expected] : refused) EXPECT_EQ(error_of({arg}), expected);
  // The bounds themselves are accepted.
  const auto options = parse({"--read-chunk-bytes=256", "--thread-stack-bytes=1073741824",
                              "--max-clients=0", "--drain-timeout-ms=0", "--max-login-bytes=1024"});
  ASSERT_TRUE(options);
  EXPECT_EQ(options->config.limits.read_chunk_bytes, 256u);
  EXPECT_EQ(options->config.limits.thread_stack_bytes, 1073741824u);
}

TEST(ServerOptions, ThreadCacheFromCommandLineOrEnvironment) {
  EXPECT_EQ(parse({})->config.limits.thread_cache, 20'000u);  // the default
  EXPECT_EQ(parse({"--thread-cache=0"})->config.limits.thread_cache, 0u);
  EXPECT_EQ(parse({}, {{"ACHAT_THREAD_CACHE", "512"}})->config.limits.thread_cache, 512u);
  EXPECT_EQ(parse({"--thread-cache=7"}, {{"ACHAT_THREAD_CACHE", "512"}})->config.limits.thread_cache,
            7u);  // the command line wins
}

TEST(ServerOptions, AnEnvironmentErrorNamesTheVariable) {
  EXPECT_EQ(error_of({}, {{"ACHAT_MAX_CLIENTS", "lots"}}),
            "ACHAT_MAX_CLIENTS=lots: option --max-clients needs an integer from 0 to 1000000, got \"lots\"");
  EXPECT_EQ(error_of({}, {{"ACHAT_LISTEN", "nowhere"}}), "ACHAT_LISTEN=nowhere: bad address \"nowhere\": expected HOST:PORT, [IPv6]:PORT or :PORT");
  EXPECT_EQ(error_of({}, {{"ACHAT_LOG_LEVEL", "loud"}}),
            "ACHAT_LOG_LEVEL=loud: option --log-level needs one of trace, debug, info, warn, error, "
            "critical, off, got \"loud\"");
}

TEST(ServerOptions, UnknownAchatVariablesAreReported) {
  EXPECT_EQ(unknown_environment_variables({"PATH", "ACHAT_MAX_CLIENTS", "ACHAT_MAX_CLEINTS", "ACHAT_LISTEN",
                                           "ACHAT_LOG_FILE", "ACHAT_STATS_INTERVAL", "ACHATX"}),
            std::vector<std::string>{"ACHAT_MAX_CLEINTS"});
}

TEST(ServerOptions, HelpStatesEveryRangeAndDefault) {
  const std::string usage = server_usage();
  for (const char* expected :
       {"--read-chunk-bytes N", "256..1048576 (default 4096)", "--thread-stack-bytes N",
        "32768..1073741824 (default 65536)", "--max-line-bytes N", "64..67108864 (default 65536)",
        "--log-file PATH", "--log-queue-lines N", "16..1048576 (default 8192)", "--thread-cache N", "0..2000000 (default 20000)", "--thread-prestart N", "0..2000000 (default 0)", "--version, -V",
        "SIGHUP", "SIGUSR1"}) {
    EXPECT_NE(usage.find(expected), std::string::npos) << expected << " missing from:\n" << usage;
  }
}

TEST(ServerOptions, RefusesLimitsThatCannotWorkTogether) {
  // One longest line: 65536 of text, a 32-byte login, "from : \n" and the per-line overhead.
  const std::string longest = std::to_string(65536 + 32 + 8 + kQueuedLineOverhead);
  EXPECT_EQ(error_of({"--max-outbound-bytes=4096"}),
            "--max-outbound-bytes 4096 is smaller than one longest line (--max-line-bytes 65536 "
            "from a --max-login-bytes 32 login costs " + longest + " bytes queued): a client sent "
            "such a line would be cut though it reads; set it to at least " + longest +
            " or lower --max-line-bytes");
  EXPECT_EQ(error_of({"--max-queued-bytes=65536"}).rfind("--max-queued-bytes 65536 is smaller than one longest line", 0), 0u);
  EXPECT_EQ(error_of({"--max-line-bytes=64", "--max-login-bytes=100"}),
            "--max-login-bytes 100 is more than --max-line-bytes 64: a login that long could never be sent");
  // From the environment too, where the command line did not fix it.
  EXPECT_EQ(error_of({}, {{"ACHAT_MAX_OUTBOUND_BYTES", "4096"}}).rfind("--max-outbound-bytes 4096", 0), 0u);
  // The boundaries themselves work; a smaller line makes a small cap fine; 0 = automatic budget.
  EXPECT_TRUE(parse({"--max-outbound-bytes=" + longest, "--max-queued-bytes=" + longest}));
  EXPECT_TRUE(parse({"--max-outbound-bytes=4096", "--max-line-bytes=1024"}));
  EXPECT_TRUE(parse({"--max-queued-bytes=0"}));
  EXPECT_TRUE(parse({"--max-line-bytes=64", "--max-login-bytes=64"}));
  EXPECT_EQ(error_of({"--thread-cache=10", "--thread-prestart=11"}),
            "--thread-prestart 11 is more than --thread-cache 10: the threads beyond the cache could not park");
  EXPECT_EQ(parse({"--thread-cache=10", "--thread-prestart=10"})->config.limits.thread_prestart, 10u);
}

}  // namespace
}  // namespace achat
