#include "fence.h"

#include <memory>
#include <spdlog/spdlog.h>

#include "claim_record.h"

namespace achat::cluster {

void Fence::operator()() {
  const auto window = fence_window(ttl);
  while (!stop.stopped()) {
    ClaimBook::Clock::time_point next;
    const auto lapsed = book.lapsed(ClaimBook::Clock::now(), window, next);
    for (const auto& claim : lapsed) {
      auto login = login_of_key(claim.key);
      if (!login) continue;
      ClusterStats::add(stats.sessions_fenced);
      inbox.send(std::make_unique<ClaimLapsed>(ClaimLapsed{std::move(*login), claim.lease_stamp}));
    }
    if (!lapsed.empty()) {
      // One line per wake-up, not per session: a partition ends them all at about once.
      spdlog::warn("cluster: ending {} sessions: NATS has not confirmed their claims for {} ms "
                   "(claim TTL {} ms), another node could soon take their names",
                   lapsed.size(), window.count(), ttl.count());
    }
    stop.wait_until(next);
  }
  inbox.reset();
}

}  // namespace achat::cluster
