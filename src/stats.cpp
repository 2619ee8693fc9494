#include "achat/stats.h"

namespace achat {

std::string Stats::summary() const {
  auto get = [](const Counter& counter) {
    return std::to_string(counter.load(std::memory_order_relaxed));
  };
  return "connections " + get(connections_accepted) + " (refused " + get(connections_refused) +
         "), logins " + get(logins) + " (refused " + get(logins_refused) + "), messages accepted " +
         get(messages_accepted) + ", deliveries routed " + get(deliveries_routed) +
         ", lines written " + get(lines_written) + ", undeliverable " + get(lines_undeliverable) +
         ", protocol errors " + get(protocol_errors) + ", slow consumers " + get(slow_consumers);
}

}  // namespace achat
