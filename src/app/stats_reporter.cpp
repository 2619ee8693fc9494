#include "stats_reporter.h"

#include <algorithm>
#include <cstdio>

namespace achat {

namespace {

std::string decimal(double value, const char* format) {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string ratio(std::uint64_t numerator, std::uint64_t denominator) {
  if (denominator == 0) return "-";
  return decimal(static_cast<double>(numerator) / static_cast<double>(denominator), "%.2f");
}

}  // namespace

StatsSample sample_stats(const Server& server) {
  const Stats& stats = server.stats();
  auto get = [](const Stats::Counter& counter) { return counter.load(std::memory_order_relaxed); };
  StatsSample sample;
  sample.at = std::chrono::steady_clock::now();
  sample.connections = server.connections();
  const ThreadCounts threads = server.thread_counts();
  sample.threads = threads.running;
  sample.threads_parked = threads.parked;
  sample.logged_in = get(stats.logged_in);
  sample.threads_created = threads.created;
  sample.threads_reused = threads.reused;
  sample.queued_bytes = server.queued_bytes();
  sample.routed = get(stats.deliveries_routed);
  sample.written = get(stats.lines_written);
  sample.writer_wakeups = get(stats.writer_wakeups);
  sample.broker_rounds = get(stats.broker_rounds);
  sample.broker_events = get(stats.broker_events);
  sample.connections_refused = get(stats.connections_refused);
  sample.logins_refused = get(stats.logins_refused);
  sample.not_online = get(stats.not_online_replies);
  sample.slow_consumers = get(stats.slow_consumers);
  sample.stalled_consumers = get(stats.stalled_consumers);
  sample.error_floods = get(stats.error_floods);
  sample.budget_cuts = get(stats.budget_cuts);
  sample.log_lines_dropped = get(stats.log_lines_dropped);
  return sample;
}

std::string stats_line(const StatsSample& previous, const StatsSample& now) {
  const double seconds = std::max(1e-3, std::chrono::duration<double>(now.at - previous.at).count());
  auto rate = [&](std::uint64_t StatsSample::*counter) {
    return decimal(static_cast<double>(now.*counter - previous.*counter) / seconds, "%.1f") + "/s";
  };
  auto delta = [&](std::uint64_t StatsSample::*counter) { return now.*counter - previous.*counter; };
  auto total = [&](std::uint64_t StatsSample::*counter) { return std::to_string(now.*counter); };
  return "stats: connections " + std::to_string(now.connections) + ", threads " +
         std::to_string(now.threads) + ", queued " + std::to_string(now.queued_bytes) +
         " bytes, parked threads " + std::to_string(now.threads_parked) + ", logged in " +
         std::to_string(now.logged_in) + " | last " +
         decimal(seconds, "%.1f") + " s: routed " + rate(&StatsSample::routed) +
         ", written " + rate(&StatsSample::written) + ", writer wake-ups per line " +
         ratio(delta(&StatsSample::writer_wakeups), delta(&StatsSample::written)) +
         ", broker average batch " +
         ratio(delta(&StatsSample::broker_events), delta(&StatsSample::broker_rounds)) +
         " | totals: refused " + total(&StatsSample::connections_refused) + " connections and " +
         total(&StatsSample::logins_refused) + " logins, not online " +
         total(&StatsSample::not_online) + ", cut " + total(&StatsSample::slow_consumers) +
         " slow, " + total(&StatsSample::stalled_consumers) + " stalled, " +
         total(&StatsSample::error_floods) + " error floods, " + total(&StatsSample::budget_cuts) +
          " over budget, log lines dropped " + total(&StatsSample::log_lines_dropped) +
         ", threads created " + total(&StatsSample::threads_created) + ", reused " +
         total(&StatsSample::threads_reused);
}

StatsReporter::StatsReporter(const Server& server)
    : server_(server), previous_(sample_stats(server)) {}

std::string StatsReporter::peek_line() const {
  std::string text = stats_line(previous_, sample_stats(server_));
  if (const ClusterNode* cluster = server_.cluster()) text += " | cluster totals: " + cluster->summary();
  return text;
}

std::string StatsReporter::line() {
  StatsSample now = sample_stats(server_);
  std::string text = stats_line(previous_, now);
  if (const ClusterNode* cluster = server_.cluster()) text += " | cluster totals: " + cluster->summary();
  previous_ = now;
  return text;
}

}  // namespace achat
