// The log as an operator meets it: it never stops the chat, it can be rotated, and it speaks
// journald's dialect under systemd. Each test runs the real binary.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

#include "server_process.h"
#include "temp_dir.h"
#include "test_client.h"

namespace achat::testing {
namespace {

bool file_contains(const std::filesystem::path& path, const std::string& text) {
  return read_file(path).find(text) != std::string::npos;
}

// The number after `label` in the last line that has it, or -1.
long long number_after(const std::string& log, const std::string& label) {
  const auto at = log.rfind(label);
  return at == std::string::npos ? -1 : std::atoll(log.c_str() + at + label.size());
}

TEST(Logging, AStderrPipeNobodyReadsNeverStopsTheChat) {
  // A one-page pipe and a 64-line queue, both full after a few sessions: every later line
  // (connect, online, disconnect, ...) can only be dropped.
  ServerProcess server(server_binary(), {"--log-level=debug", "--log-queue-lines=64"},
                       ServerLaunch{.drain_output = false});
  for (int i = 0; i < 100; ++i) {
    auto visitor = TestClient::online(server.port(), "visitor" + std::to_string(i));
    visitor.shutdown_write();
    ASSERT_TRUE(visitor.closed_by_server()) << "session " << i;
  }
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  constexpr int kMessages = 2000;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) burst += "bob: " + std::to_string(i) + "\n";
  alice.send(burst);
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bob.read_line(), "from alice: " + std::to_string(i));
  // Logins are logged by the broker itself: it still routes.
  auto carol = TestClient::online(server.port(), "carol");
  bob.send("carol: still here\n");
  EXPECT_EQ(carol.read_line(), "from bob: still here");

  server.drain_output();
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0) << server.log();
  const std::string log = server.log();
  // The queue keeps the newest lines; the summary counts what it dropped.
  EXPECT_NE(log.find("SIGTERM: shutting down"), std::string::npos) << log;
  EXPECT_GT(number_after(log, "log lines dropped "), 100) << log;
}

TEST(Logging, SighupReopensTheLogFileForLogrotate) {
  TempDir directory;
  const auto log_file = directory.path() / "a-chat.log";
  const auto rotated = directory.path() / "a-chat.log.1";
  ServerProcess server(server_binary(), {"--log-file=" + log_file.string()},
                       ServerLaunch{.log_file = log_file.string()});
  auto alice = TestClient::online(server.port(), "alice");
  std::filesystem::rename(log_file, rotated);  // what logrotate does first
  server.signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return file_contains(log_file, "SIGHUP: log reopened; stats: connections 1"); }))
      << read_file(rotated);
  server.signal(SIGUSR1);
  ASSERT_TRUE(eventually([&] { return file_contains(log_file, "SIGUSR1: stats: connections 1"); }));
  auto bob = TestClient::online(server.port(), "bob");  // still serving
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  const std::string before = read_file(rotated);
  const std::string after = read_file(log_file);
  EXPECT_NE(before.find("listening on 127.0.0.1:"), std::string::npos) << before;
  EXPECT_NE(before.find("alice ("), std::string::npos) << before;
  EXPECT_EQ(before.find("SIGHUP"), std::string::npos) << before;
  EXPECT_NE(after.find("bob ("), std::string::npos) << after;
  EXPECT_NE(after.find("stopped: connections"), std::string::npos) << after;
  EXPECT_EQ(server.log(), "");  // nothing on stderr
}

TEST(Logging, AnUnwritableLogFileRefusesToStart) {
  // Under a file, so no directory can be made for it either (not even by root).
  const auto run = run_to_completion(server_binary(), {"--log-file=/dev/null/a-chat.log"});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out.rfind("a-chat-server: ", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("/dev/null/a-chat.log"), std::string::npos) << run.out;
}

TEST(Logging, ALogFileInAMissingDirectoryIsRefusedInOurWordsAndNotCreated) {
  TempDir directory;
  const auto missing = directory.path() / "missing";
  const auto run = run_to_completion(server_binary(), {"--log-file=" + (missing / "a.log").string()});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "a-chat-server: cannot open the log file " + (missing / "a.log").string() +
                         " (--log-file): No such file or directory\n");
  EXPECT_FALSE(std::filesystem::exists(missing));
}

TEST(Logging, SighupWithTheLogOnStderrSaysThereIsNothingToReopen) {
  ServerProcess server(server_binary(), {});
  server.signal(SIGHUP);
  ASSERT_TRUE(server.wait_for_log("SIGHUP: log on stderr, nothing to reopen; stats: connections 0",
                                  kDeadline)) << server.log();
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  EXPECT_EQ(server.log().find("log reopened"), std::string::npos) << server.log();
}

TEST(Logging, LinesCarryAnIso8601TimestampWithTheUtcOffset) {
  ServerProcess server(server_binary(), {});
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  const std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (info|warning) .+)");
  std::istringstream lines(server.log());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    EXPECT_TRUE(std::regex_match(line, stamped)) << line;
  }
  EXPECT_GE(count, 3);
}

TEST(Logging, UnderSystemdLinesCarryJournalPrioritiesAndNoTimestamp) {
  ServerProcess server(server_binary(), {}, ServerLaunch{.environment = {"ACHAT_MAX_CLEINTS=5"},
                                                         .journal_stream = true});
  auto alice = TestClient::online(server.port(), "alice");
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  const std::string log = server.log();
  EXPECT_NE(log.find("<4>environment variable ACHAT_MAX_CLEINTS sets no option (see --help)\n"),
            std::string::npos) << log;
  EXPECT_NE(log.find("<6>listening on 127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("<6>alice ("), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_TRUE(std::regex_match(line, std::regex(R"(^<[2-7]>(?!\d{4}-\d\d-\d\dT).+)"))) << line;
  }
}

TEST(Logging, AJournalStreamThatIsNotStderrKeepsTimestamps) {
  // A shell started by a service inherits JOURNAL_STREAM while its stderr is elsewhere.
  ServerProcess server(server_binary(), {}, ServerLaunch{.environment = {"JOURNAL_STREAM=1:2"}});
  EXPECT_EQ(server.log().find("<6>"), std::string::npos) << server.log();
  EXPECT_TRUE(std::regex_search(server.log(), std::regex(R"(\+\d\d:\d\d info listening on)"))) << server.log();
}

}  // namespace
}  // namespace achat::testing
