#include "achat/stats_reporter.h"

#include <cmath>

namespace achat {

StatsReporter::StatsReporter(const Server& server)
    : server_(server), last_time_(std::chrono::steady_clock::now()) {}

std::string StatsReporter::line() {
  const Stats& stats = server_.stats();
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::max(1e-3, std::chrono::duration<double>(now - last_time_).count());
  const std::uint64_t routed = stats.deliveries_routed.load(std::memory_order_relaxed);
  const std::uint64_t written = stats.lines_written.load(std::memory_order_relaxed);
  auto rate = [&](std::uint64_t current, std::uint64_t previous) {
    return std::to_string(std::llround(static_cast<double>(current - previous) / seconds));
  };
  std::string text = "stats: connections " + std::to_string(server_.connections()) + ", threads " +
                     std::to_string(server_.threads()) + ", routed " + rate(routed, last_routed_) +
                     "/s, written " + rate(written, last_written_) + "/s, queued " +
                     std::to_string(server_.queued_bytes()) + " bytes, refused " +
                     std::to_string(stats.connections_refused.load(std::memory_order_relaxed)) +
                     " connections and " +
                     std::to_string(stats.logins_refused.load(std::memory_order_relaxed)) +
                     " logins, slow consumers " +
                     std::to_string(stats.slow_consumers.load(std::memory_order_relaxed));
  last_time_ = now;
  last_routed_ = routed;
  last_written_ = written;
  return text;
}

}  // namespace achat
