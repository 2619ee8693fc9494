#include "process_limits.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sys/resource.h>
#include <vector>

namespace achat {

namespace {

std::optional<std::size_t> read_number(const std::string& path) {
  std::ifstream file(path);
  std::size_t value = 0;
  if (file >> value) return value;
  return std::nullopt;
}

// The cgroup directories that may limit this process's tasks, from /proc/self/cgroup: the v2
// one and, on a v1 or hybrid system, the pids controller's.
std::vector<std::string> pids_cgroups(const std::string& proc_cgroup, const std::string& root) {
  std::ifstream file(proc_cgroup);
  std::vector<std::string> directories;
  for (std::string line; std::getline(file, line);) {
    if (line.rfind("0::", 0) == 0) {
      directories.push_back(root + line.substr(3));
    } else if (const auto at = line.find(":pids:"); at != std::string::npos) {
      directories.push_back(root + "/pids" + line.substr(at + 6));
    }
  }
  return directories;
}

// pids.max is "max" (no limit, not a number) or a number; ancestors limit their whole subtree,
// so the tightest of `directory` and its ancestors up to `root` counts.
std::optional<std::size_t> tasks_left_under(std::string directory, const std::string& root) {
  std::optional<std::size_t> left;
  while (directory.size() >= root.size()) {
    if (const auto max = read_number(directory + "/pids.max")) {
      const std::size_t current = read_number(directory + "/pids.current").value_or(0);
      left = std::min(left.value_or(SIZE_MAX), *max > current ? *max - current : 0);
    }
    if (directory.size() == root.size()) break;
    directory.resize(directory.rfind('/'));
  }
  return left;
}

}  // namespace

std::size_t raise_fd_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  getrlimit(RLIMIT_NOFILE, &files);
  return static_cast<std::size_t>(files.rlim_cur);
}

std::optional<std::size_t> cgroup_tasks_available(const std::string& proc_cgroup,
                                                  const std::string& cgroup_root) {
  std::optional<std::size_t> available;
  for (const auto& directory : pids_cgroups(proc_cgroup, cgroup_root)) {
    if (const auto left = tasks_left_under(directory, cgroup_root)) {
      available = std::min(available.value_or(SIZE_MAX), *left);
    }
  }
  return available;
}

std::string fit_to_process_limits(Limits& limits, std::size_t fds_per_client) {
  const std::size_t fd_limit = raise_fd_limit();
  rlimit tasks{};
  getrlimit(RLIMIT_NPROC, &tasks);
  constexpr std::size_t kReservedThreads = 64;   // accept, broker, main, log and other processes
  constexpr std::size_t kMapsPerThread = 2;      // stack + guard page
  constexpr std::size_t kReservedMaps = 1000;    // libraries, heap arenas
  const std::size_t fds =
      std::max<std::size_t>(1, (fd_limit > kReservedFds ? fd_limit - kReservedFds : 1) / fds_per_client);
  const auto cgroup_tasks = cgroup_tasks_available();
  std::size_t threads = std::min<std::size_t>(
      {read_number("/proc/sys/kernel/pid_max").value_or(32768),
       read_number("/proc/sys/kernel/threads-max").value_or(32768),
       tasks.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<std::size_t>(tasks.rlim_cur),
       cgroup_tasks.value_or(SIZE_MAX)});
  threads = threads > kReservedThreads ? threads - kReservedThreads : 2;
  const std::size_t maps = read_number("/proc/sys/vm/max_map_count").value_or(65530);
  const std::size_t by_maps = maps > kReservedMaps ? (maps - kReservedMaps) / (2 * kMapsPerThread) : 1;
  // Two threads per client include the parked ones: the Crew starts a thread only when none is
  // parked or about to park, so running plus parked threads never exceed the most connections'
  // threads served at once (see Crew), and the cache needs no room of its own.
  const std::size_t fitted = std::max<std::size_t>(1, std::min({fds, threads / 2, by_maps}));
  if (limits.max_clients == 0) limits.max_clients = fitted;
  return "fd limit " + std::to_string(fd_limit) + ", cgroup tasks left " +
         (cgroup_tasks ? std::to_string(*cgroup_tasks) : std::string("unlimited")) +
         ", max clients " + std::to_string(limits.max_clients) + " (process limits allow " +
         std::to_string(fitted) + ")";
}

}  // namespace achat
