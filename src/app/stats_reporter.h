// The periodic stats line: what the server is doing now, as rates since the previous line.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "achat/server.h"

namespace achat {

// The server's gauges and counters at one instant.
struct StatsSample {
  std::chrono::steady_clock::time_point at;
  std::size_t connections = 0;
  std::uint64_t logged_in = 0;      // users logged in now (a gauge)
  std::size_t threads = 0;          // reader and writer threads serving a connection
  std::size_t threads_parked = 0;   // in the thread cache, waiting for a connection
  std::uint64_t threads_created = 0;
  std::uint64_t threads_reused = 0;  // connections' threads taken from the cache
  std::int64_t queued_bytes = 0;
  std::uint64_t routed = 0;
  std::uint64_t written = 0;
  std::uint64_t writer_wakeups = 0;
  std::uint64_t broker_rounds = 0;
  std::uint64_t broker_events = 0;
  std::uint64_t connections_refused = 0;
  std::uint64_t logins_refused = 0;
  std::uint64_t not_online = 0;
  std::uint64_t slow_consumers = 0;
  std::uint64_t stalled_consumers = 0;
  std::uint64_t error_floods = 0;
  std::uint64_t budget_cuts = 0;
  std::uint64_t log_lines_dropped = 0;
};

StatsSample sample_stats(const Server& server);

// "stats: connections 2, threads 4, queued 0 bytes, parked threads 6, logged in
//  2 | last 5.0 s: routed
//  1.4/s, written 1.4/s, writer wake-ups per line 0.50, broker average batch 1.25 | totals:
//  refused 0 connections and 0 logins, not online 0, cut 0 slow, 0 stalled, 0 error floods, 0
//  over budget, log lines dropped 0, threads created 10, reused 4". Rates and ratios cover the interval from `previous` to `now` ("-" when nothing
//  was written or routed in it); totals count since the server started.
std::string stats_line(const StatsSample& previous, const StatsSample& now);

// Owned and called by one thread (main). Remembers the sample of the previous periodic line. In
// a cluster, each line ends with the node's totals ("| cluster totals: claims 3 ...").
class StatsReporter {
 public:
  explicit StatsReporter(const Server& server);
  // The periodic line: rates since the previous periodic line, which this one then replaces.
  std::string line();
  // A line on demand (SIGUSR1, SIGHUP): rates since the previous periodic line, which stays the
  // start of the interval, so an operator's request never shortens the next periodic line's.
  std::string peek_line() const;

 private:
  const Server& server_;
  StatsSample previous_;
};

}  // namespace achat
