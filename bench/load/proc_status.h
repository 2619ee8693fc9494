// Reads another process's resident memory and thread count from /proc/PID/status.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace achat::load {

struct ProcSample {
  std::uint64_t rss_kb = 0;   // VmRSS
  std::uint64_t threads = 0;  // Threads
};

// nullopt if the process is gone or the file lacks either field.
std::optional<ProcSample> sample_process(pid_t pid);

}  // namespace achat::load
