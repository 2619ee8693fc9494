#include "process_limits.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace achat {
namespace {

// A fake /proc/self/cgroup and cgroup tree in a fresh directory.
class FakeCgroups : public ::testing::Test {
 protected:
  void write(const std::string& relative, const std::string& text) {
    const auto path = root_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::optional<std::size_t> available() {
    return cgroup_tasks_available((root_ / "proc-self-cgroup").string(), (root_ / "sys").string());
  }

  testing::TempDir directory_;
  const std::filesystem::path& root_ = directory_.path();
};

TEST_F(FakeCgroups, V2ServiceLimitIsMaxMinusCurrent) {
  write("proc-self-cgroup", "0::/system.slice/a-chat.service\n");
  write("sys/system.slice/a-chat.service/pids.max", "24000\n");
  write("sys/system.slice/a-chat.service/pids.current", "5\n");
  write("sys/system.slice/pids.max", "max\n");
  EXPECT_EQ(available(), 23995u);
}

TEST_F(FakeCgroups, TheTightestAncestorWins) {
  write("proc-self-cgroup", "0::/user.slice/user-1000.slice/session-1.scope\n");
  write("sys/user.slice/user-1000.slice/session-1.scope/pids.max", "max\n");
  write("sys/user.slice/user-1000.slice/pids.max", "300\n");
  write("sys/user.slice/user-1000.slice/pids.current", "100\n");
  write("sys/user.slice/pids.max", "10000\n");
  EXPECT_EQ(available(), 200u);
}

TEST_F(FakeCgroups, V1PidsHierarchyIsReadToo) {
  write("proc-self-cgroup", "9:memory:/x\n8:pids:/docker/abc\n0::/\n");
  write("sys/pids/docker/abc/pids.max", "64\n");
  write("sys/pids/docker/abc/pids.current", "4\n");
  EXPECT_EQ(available(), 60u);
}

TEST_F(FakeCgroups, NoLimitAnywhereMeansNone) {
  write("proc-self-cgroup", "0::/a\n");
  write("sys/a/pids.max", "max\n");
  EXPECT_EQ(available(), std::nullopt);
  EXPECT_EQ(cgroup_tasks_available((root_ / "missing").string(), root_.string()), std::nullopt);
}

TEST(ProcessLimits, FitsMaxClientsToProcessLimits) {
  Limits limits;
  const std::string summary = fit_to_process_limits(limits);
  EXPECT_GT(limits.max_clients, 0u);
  EXPECT_NE(summary.find("max clients " + std::to_string(limits.max_clients)), std::string::npos);
  if (const auto tasks = cgroup_tasks_available()) {
    EXPECT_LE(limits.max_clients, *tasks / 2);
  }
  Limits fixed;
  fixed.max_clients = 12;
  fit_to_process_limits(fixed);
  EXPECT_EQ(fixed.max_clients, 12u);
}

}  // namespace
}  // namespace achat
