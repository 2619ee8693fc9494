// Refusals never eat the descriptors the server keeps for itself: under a low fd limit, a full
// server answers a burst of connections with "server full" and never fails accept() with EMFILE.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "server_process.h"
#include "test_client.h"

namespace achat::testing {
namespace {

constexpr unsigned kOpenFiles = 200;
constexpr std::size_t kReservedFds = 64;  // what the server keeps out of max_clients
constexpr int kBurst = 200;

TEST(FdReserve, AFullServerRefusesABurstWithoutRunningOutOfDescriptors) {
  ServerLaunch launch;
  launch.open_files = kOpenFiles;
  ServerProcess server(server_binary(), {"--stats-interval=0"}, launch);
  // Sized from the fd limit (or lower, if threads are scarcer here): fill exactly that many.
  const std::string log_at_start = server.log();
  const auto at = log_at_start.find("max clients ");
  ASSERT_NE(at, std::string::npos) << log_at_start;
  const std::size_t max_clients = std::stoul(log_at_start.substr(at + 12));
  ASSERT_LE(max_clients, kOpenFiles - kReservedFds);
  std::vector<TestClient> online;
  online.reserve(max_clients);
  for (std::size_t i = 0; i < max_clients; ++i) {
    online.push_back(TestClient::online(server.port(), "user" + std::to_string(i)));
  }
  // All at once, and none closes before every one has its answer: a refusal thread that kept
  // each socket for its linger would hold 200 descriptors.
  std::vector<std::unique_ptr<TestClient>> burst;
  for (int i = 0; i < kBurst; ++i) burst.push_back(std::make_unique<TestClient>(server.port()));
  for (int i = 0; i < kBurst; ++i) {
    EXPECT_EQ(burst[i]->read_line(), "error: server full") << "connection " << i;
    EXPECT_TRUE(burst[i]->closed_by_server()) << "connection " << i;
  }
  burst.clear();
  online.clear();
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait_exit(kDeadline), 0);
  const std::string log = server.log();
  EXPECT_EQ(log.find("Too many open files"), std::string::npos) << log;
  EXPECT_NE(log.find("(refused " + std::to_string(kBurst) + ")"), std::string::npos) << log;
}

}  // namespace
}  // namespace achat::testing
