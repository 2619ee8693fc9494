// The periodic stats line: what the server is doing now, as rates since the previous line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "achat/server.h"

namespace achat {

// Owned and called by one thread (main). Remembers the counters at the previous line.
class StatsReporter {
 public:
  explicit StatsReporter(const Server& server);
  // "stats: connections 12, threads 24, routed 1500/s, written 1490/s, queued 2048 bytes,
  //  refused 0 connections and 1 logins, slow consumers 0"
  std::string line();

 private:
  const Server& server_;
  std::chrono::steady_clock::time_point last_time_;
  std::uint64_t last_routed_ = 0;
  std::uint64_t last_written_ = 0;
};

}  // namespace achat
