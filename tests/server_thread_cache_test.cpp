// End-to-end: a client's reader and writer park in the thread cache when it leaves, holding
// nothing of the connection (its fd is closed, its login is free), and the next client gets them.
#include <gtest/gtest.h>

#include <filesystem>
#include <chrono>
#include <optional>
#include <string>

#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

std::size_t open_fds() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

// `name` logs in again once the broker has let its old session go (the old writer reports
// that asynchronously, so an early try is refused as already online and is retried).
std::optional<TestClient> online_again(std::uint16_t port, const std::string& name) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    TestClient client(port);
    client.send(name + "\n" + name + ": ready\n");
    const auto answer = client.read_line();
    if (answer == "from " + name + ": ready") return client;
    EXPECT_EQ(answer, "error: login \"" + name + "\" is already online, disconnecting");
  }
  ADD_FAILURE() << name << " could not log in again";
  return std::nullopt;
}

TEST(ServerThreadCache, ALeavingClientsThreadsParkWithoutItsSocketAndServeTheNextLogin) {
  TestServer server;
  auto bob = TestClient::online(server.port(), "bob");
  const std::size_t fds_before_alice = open_fds();
  std::optional<TestClient> alice = TestClient::online(server.port(), "alice");
  EXPECT_EQ(open_fds(), fds_before_alice + 2);  // alice's socket and the server's side of it
  alice->shutdown_write();
  EXPECT_TRUE(alice->closed_by_server());
  alice.reset();

  // Both of alice's threads parked: by then they hold nothing of her connection.
  ASSERT_TRUE(eventually([&] { return server->thread_counts().parked == 2; }));
  EXPECT_EQ(open_fds(), fds_before_alice);  // the server's side of her socket is closed too
  EXPECT_EQ(server->connections(), 1u);

  // Her login is free while her old threads are parked, and the new session runs on them.
  auto again = online_again(server.port(), "alice");
  ASSERT_TRUE(again);
  again->send("bob: back on a parked thread\n");
  EXPECT_EQ(bob.read_line(), "from alice: back on a parked thread");
  const ThreadCounts counts = server->thread_counts();
  EXPECT_GE(counts.reused, 2u);  // the first try after she left ran on her parked threads
  // Every connection got its two threads, started or reused (a refused early try too).
  EXPECT_EQ(counts.created + counts.reused, 2 * server->stats().connections_accepted.load());
  EXPECT_TRUE(eventually([&] { return server->threads() == 4; }));  // bob's and alice's
}

// --thread-prestart: a freshly started server already has the threads parked, so its first
// logins create none.
TEST(ServerThreadCache, PrestartedThreadsServeTheFirstLoginsOfAFreshServer) {
  Limits limits;
  limits.thread_prestart = 6;
  TestServer server(limits);
  ThreadCounts counts = server->thread_counts();
  EXPECT_EQ(counts.parked, 6u);  // parked before the server accepts anything
  EXPECT_EQ(counts.created, 6u);
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  alice.send("bob: on a prestarted thread\n");
  EXPECT_EQ(bob.read_line(), "from alice: on a prestarted thread");
  counts = server->thread_counts();
  EXPECT_EQ(counts.created, 6u);
  EXPECT_EQ(counts.reused, 4u);
  EXPECT_EQ(counts.parked, 2u);
}

TEST(ServerThreadCache, WithoutACacheEveryConnectionStartsItsOwnThreads) {
  Limits limits;
  limits.thread_cache = 0;
  TestServer server(limits);
  { auto alice = TestClient::online(server.port(), "alice"); }
  ASSERT_TRUE(eventually([&] { return server->threads() == 0; }));
  ASSERT_TRUE(online_again(server.port(), "alice"));
  const ThreadCounts counts = server->thread_counts();
  EXPECT_EQ(counts.created, 2 * server->stats().connections_accepted.load());
  EXPECT_EQ(counts.reused, 0u);
  EXPECT_EQ(counts.parked, 0u);
}

}  // namespace
}  // namespace achat::testing
