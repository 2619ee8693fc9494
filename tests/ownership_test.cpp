// Ownership all the way down: a connection's end reaches the broker however its threads end,
// so a login is never left "already online"; and every refused login is counted.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "achat/server.h"
#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

// A server whose first `throws` writer batches throw from inside the writer (the test hook).
struct ServerWithFailingWriter {
  explicit ServerWithFailingWriter(int throws)
      : remaining(throws), server((quiet_logs(), config(remaining, thrown))) {
    server.start();
  }
  static ServerConfig config(std::atomic<int>& remaining, std::atomic<int>& thrown) {
    ServerConfig result = loopback_config();
    result.faults.before_write = [&remaining, &thrown] {
      if (remaining.fetch_sub(1) > 0) {
        thrown.fetch_add(1);
        throw std::runtime_error("injected writer fault");
      }
    };
    return result;
  }
  std::atomic<int> remaining;
  std::atomic<int> thrown{0};
  Server server;
};

TEST(Ownership, AWriterThatThrowsEndsItsConnectionAndFreesTheLogin) {
  ServerWithFailingWriter failing(1);
  Server& server = failing.server;
  TestClient first(server.port());
  first.send("bob\nbob: hello\n");  // the echo is bob's writer's first batch: it throws
  EXPECT_TRUE(first.closed_by_server()) << "the failed writer must end its connection";
  EXPECT_EQ(failing.thrown.load(), 1);
  // Every part of the connection lets go: reader, writer (its WriterDone sent before) and broker.
  ASSERT_TRUE(eventually([&] { return server.connections() == 0; }));
  // The same name again: online at once, not "already online" until a restart.
  auto again = TestClient::online(server.port(), "bob");
  EXPECT_EQ(server.stats().logins.load(), 2u);
  EXPECT_EQ(server.stats().logins_refused.load(), 0u);
}

TEST(Ownership, AWriterThatThrowsKeepsItsAccountsAndDiscardsItsQueue) {
  ServerWithFailingWriter failing(1);
  Server& server = failing.server;
  TestClient alice(server.port());
  alice.send("alice\n" + std::string("alice: one\nalice: two\nalice: three\n"));
  EXPECT_TRUE(alice.closed_by_server());
  ASSERT_TRUE(eventually([&] { return server.connections() == 0; }));
  // What was queued for the failed writer left the server-wide budget, counted as undeliverable.
  EXPECT_EQ(server.queued_bytes(), 0);
  EXPECT_GE(server.stats().lines_undeliverable.load(), 1u);
  EXPECT_EQ(server.stats().lines_written.load(), 0u);
  expect_bystanders_served(server.port());
}

TEST(Ownership, LoginTimeoutsAndOverlongLoginsCountAsRefusedLogins) {
  Limits limits;
  limits.login_timeout_ms = 100;
  limits.max_line_bytes = 64;
  TestServer server(limits);
  TestClient silent(server.port());
  EXPECT_EQ(silent.read_line(), "error: login timeout, disconnecting");
  EXPECT_EQ(server->stats().logins_refused.load(), 1u);
  TestClient verbose(server.port());
  verbose.send(std::string(100, 'a'));
  EXPECT_EQ(verbose.read_line(), "error: line longer than 64 bytes, disconnecting");
  EXPECT_EQ(server->stats().logins_refused.load(), 2u);
  TestClient invalid(server.port());
  invalid.send("a:b\n");
  EXPECT_TRUE(invalid.read_line().has_value());
  EXPECT_EQ(server->stats().logins_refused.load(), 3u);
  // A client that leaves before trying to log in was not refused.
  {
    TestClient leaver(server.port());
  }
  ASSERT_TRUE(eventually([&] { return server->connections() == 0; }));
  EXPECT_EQ(server->stats().logins_refused.load(), 3u);
}

}  // namespace
}  // namespace achat::testing
