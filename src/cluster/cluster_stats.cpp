#include "cluster_stats.h"

namespace achat::cluster {

std::string ClusterStats::summary() const {
  auto text = [](const Counter& counter) {
    return std::to_string(counter.load(std::memory_order_relaxed));
  };
  return "claims " + text(claims) + " (refused: taken " + text(claims_taken) + ", unavailable " +
         text(claims_unavailable) + "), claims lost " + text(claims_lost) + ", releases failed " +
         text(releases_failed) + ", stale claims released " + text(stale_released) +
         ", forwarded " + text(forwarded) + " (failed " + text(forward_failed) + "), received " +
         text(received) + ", gaps " + text(gaps) + " (" + text(missing) + " publications lost)" +
         ", repeated " + text(repeated) + ", malformed " + text(malformed) + ", slow consumer " +
         text(slow_consumer);
}

}  // namespace achat::cluster
