// What this process may use: fds, tasks and memory maps, read from rlimits, /proc and cgroups.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "achat/limits.h"

namespace achat {

// Descriptors kept out of max_clients when it is sized from the fd limit: the listener, stdio,
// the log, the metrics endpoint and its clients, NATS sockets, and refused sockets while they
// linger (the refusal thread may hold half of what the client limit leaves: see
// src/server/fd_reserve.h).
inline constexpr std::size_t kReservedFds = 64;

// Raises the fd soft limit to the hard limit; returns the new soft limit.
std::size_t raise_fd_limit();

// Tasks (threads) this process may still start under its cgroups' pids.max, the tightest of its
// cgroup and every ancestor (max minus current); nullopt if no pids limit applies. Reads
// `proc_cgroup` (/proc/self/cgroup): the cgroup v2 line "0::PATH" names CGROUP_ROOT/PATH, and
// on v1 or hybrid systems a "N:pids:PATH" line names CGROUP_ROOT/pids/PATH.
std::optional<std::size_t> cgroup_tasks_available(const std::string& proc_cgroup = "/proc/self/cgroup",
                                                  const std::string& cgroup_root = "/sys/fs/cgroup");

// Raises the fd soft limit to the hard limit, then sizes max_clients (if 0) from the limits on
// fds, tasks (pid_max, threads-max, RLIMIT_NPROC, cgroup pids.max) and memory maps this
// process can actually get; each client costs two threads, `fds_per_client` fds (1 for TCP;
// kWebClientFds when browsers may connect, see achat/web_config.h) and two maps per thread.
// Threads parked in the thread cache are within those two per client (see Crew).
// Returns a line for the log.
std::string fit_to_process_limits(Limits& limits, std::size_t fds_per_client = 1);

}  // namespace achat
