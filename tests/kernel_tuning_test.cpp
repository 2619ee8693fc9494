// What the server asks of the kernel, observed from outside the code that asks: the scheduling
// policy of its connection threads, the size of its futex hash, and the broker's spin.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/prctl.h>
#include <sys/types.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "achat/channel.h"
#include "achat/endpoint.h"
#include "achat/server.h"
#include "achat/socket.h"
#include "test_client.h"
#include "test_server.h"

#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#define PR_FUTEX_HASH_GET_SLOTS 2
#endif

namespace achat::testing {
namespace {

// This process's threads with the given name (as in /proc/self/task/TID/comm).
std::vector<pid_t> threads_named(const std::string& name) {
  std::vector<pid_t> found;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) found.push_back(std::stoi(task.path().filename()));
  }
  return found;
}

TEST(KernelTuning, ConnectionThreadsRunUnderSchedBatch) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  alice.send("alice: here\n");
  ASSERT_EQ(alice.read_line(), "from alice: here");  // her reader and writer have both run
  for (const char* role : {"reader", "writer"}) {
    const auto tids = threads_named(role);
    ASSERT_FALSE(tids.empty()) << role;
    for (const pid_t tid : tids) EXPECT_EQ(::sched_getscheduler(tid), SCHED_BATCH) << role;
  }
  for (const pid_t tid : threads_named("broker")) EXPECT_EQ(::sched_getscheduler(tid), SCHED_OTHER);
}

// This process's end of a loopback connection whose other end is bound to `port`; -1 if none.
int descriptor_connected_to(std::uint16_t port) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename());
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0 && peer.sin_family == AF_INET &&
        ntohs(peer.sin_port) == port) {
      return fd;
    }
  }
  return -1;
}

// The options are set once, on the listeners; what counts is that every accepted socket has
// them, on both ports: Nagle off, keep-alive probes as configured, and the write-stall deadline
// as the send timeout that bounds a writer's blocking send().
TEST(KernelTuning, AcceptedConnectionsCarryNoDelayKeepAliveAndTheWriteStallDeadline) {
  Limits limits;
  limits.write_stall_ms = 1'250;
  limits.keepalive_idle_s = 77;
  limits.keepalive_interval_s = 13;
  limits.keepalive_probes = 5;
  ServerConfig config = loopback_config(limits);
  config.web.listen = Endpoint{"127.0.0.1", 0};
  Server server((quiet_logs(), config));
  server.start();
  for (const std::uint16_t port : {server.port(), server.web_port()}) {
    const Socket client = Socket::connect_to(Endpoint{"127.0.0.1", port});
    int fd = -1;
    ASSERT_TRUE(eventually([&] { return (fd = descriptor_connected_to(client.local_port())) >= 0; })) << port;
    auto option = [fd](int level, int name) {
      int value = -1;
      socklen_t length = sizeof value;
      ::getsockopt(fd, level, name, &value, &length);
      return value;
    };
    EXPECT_EQ(option(IPPROTO_TCP, TCP_NODELAY), 1) << port;
    EXPECT_EQ(option(SOL_SOCKET, SO_KEEPALIVE), 1) << port;
    EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPIDLE), 77) << port;
    EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPINTVL), 13) << port;
    EXPECT_EQ(option(IPPROTO_TCP, TCP_KEEPCNT), 5) << port;
    timeval timeout{};
    socklen_t length = sizeof timeout;
    ASSERT_EQ(::getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, &length), 0);
    const long long timeout_ms = timeout.tv_sec * 1000LL + timeout.tv_usec / 1000;
    // The kernel keeps it in scheduler ticks (at least 100 per second): rounded up by < 10 ms.
    EXPECT_GE(timeout_ms, 1'250) << port;
    EXPECT_LT(timeout_ms, 1'260) << port;
  }
}

TEST(KernelTuning, FutexHashIsSizedForEveryClientsSleepers) {
  const int before = ::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
  if (before <= 0) GTEST_SKIP() << "this kernel has no private futex hash (Linux < 6.16)";
  Limits limits;
  limits.max_clients = 20'000;
  TestServer server(limits);
  EXPECT_GE(::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0), 2 * 20'000);
}

// The broker's adaptive spin: while replies come back quickly, a spinning receiver finds them
// without going to sleep in the kernel; one that does not spin sleeps for nearly every reply.
std::uint64_t sleeps_over_round_trips(std::chrono::nanoseconds spin) {
  ChannelOptions options;
  options.consumer_spin = spin;
  auto [to_echo, echo_inbox] = make_channel<int>();
  auto [to_caller, caller_inbox] = make_channel<int>(options);
  std::thread echo([inbox = std::move(echo_inbox), reply = std::move(to_caller)]() mutable {
    std::array<int, 1> item;
    while (inbox.receive(item) == 1) reply.send(item[0]);
  });
  std::array<int, 1> reply;
  for (int i = 0; i < 1'000; ++i) {
    to_echo.send(i);
    EXPECT_EQ(caller_inbox.receive(reply), 1u);
    EXPECT_EQ(reply[0], i);
  }
  to_echo.reset();
  echo.join();
  return caller_inbox.sleeps();
}

TEST(KernelTuning, SpinningReceiverStaysAwakeForQuickReplies) {
  EXPECT_GT(sleeps_over_round_trips(std::chrono::nanoseconds(0)), 100u);
  EXPECT_LT(sleeps_over_round_trips(std::chrono::seconds(10)), 10u);
}

}  // namespace
}  // namespace achat::testing
