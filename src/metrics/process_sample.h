// The standard process metrics every Prometheus client library exports (process_*), read from
// /proc/self at scrape time on the scraping thread. Linux only; a field that cannot be read is
// left out rather than reported as 0.
#pragma once

#include <cstdint>
#include <optional>

namespace achat::metrics {

struct ProcessSample {
  std::optional<std::uint64_t> resident_memory_bytes;  // /proc/self/statm, resident pages
  std::optional<std::uint64_t> virtual_memory_bytes;   // /proc/self/statm, size
  std::optional<std::uint64_t> open_fds;               // entries of /proc/self/fd
  std::optional<std::uint64_t> max_fds;                // RLIMIT_NOFILE's soft limit
  std::optional<double> start_time_seconds;            // since the Unix epoch
  std::optional<double> cpu_seconds;                   // user + system, all threads
};

ProcessSample sample_process();

}  // namespace achat::metrics
