#include "achat/stats.h"

#include <cstdio>

namespace achat {

namespace {

std::string ratio(std::uint64_t numerator, std::uint64_t denominator) {
  if (denominator == 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f",
                static_cast<double>(numerator) / static_cast<double>(denominator));
  return text;
}

}  // namespace

std::string Stats::summary() const {
  auto get = [](const Counter& counter) { return counter.load(std::memory_order_relaxed); };
  auto text = [&](const Counter& counter) { return std::to_string(get(counter)); };
  return "connections " + text(connections_accepted) + " (refused " + text(connections_refused) +
         "), logins " + text(logins) + " (refused " + text(logins_refused) + "), messages accepted " +
         text(messages_accepted) + ", deliveries routed " + text(deliveries_routed) +
         ", lines written " + text(lines_written) + ", undeliverable " + text(lines_undeliverable) +
         ", protocol errors " + text(protocol_errors) + ", not online " + text(not_online_replies) +
         ", slow consumers " + text(slow_consumers) + ", stalled " + text(stalled_consumers) +
         ", error floods " + text(error_floods) + ", budget cuts " + text(budget_cuts) +
         ", log lines dropped " + text(log_lines_dropped) + ", writer wake-ups " +
         text(writer_wakeups) + " (" + ratio(get(writer_wakeups), get(lines_written)) +
         " per line written), broker rounds " + text(broker_rounds) + " (average batch " +
         ratio(get(broker_events), get(broker_rounds)) + ")";
}

}  // namespace achat
