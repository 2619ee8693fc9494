#include "cluster_stats.h"

namespace achat::cluster {

std::vector<ClusterCounter> ClusterStats::counters() const {
  auto value = [](const Counter& counter) { return counter.load(std::memory_order_relaxed); };
  return {
      {"claims", "Logins claimed cluster-wide.", value(claims)},
      {"claims_taken", "Logins refused: another session holds the name.", value(claims_taken)},
      {"claims_unavailable", "Logins refused because NATS could not answer (fail closed).",
       value(claims_unavailable)},
      {"claims_lost", "Held claims found gone or taken at a refresh.", value(claims_lost)},
      {"sessions_fenced", "Sessions ended because NATS had not confirmed their claims in time.",
       value(sessions_fenced)},
      {"releases_failed", "Guarded claim deletes NATS refused or did not answer.",
       value(releases_failed)},
      {"stale_claims_released", "Claims of a previous run of this node deleted at start.",
       value(stale_released)},
      {"dead_run_claims_released", "Claims of a dead run of another node (it restarted) deleted here.",
       value(dead_run_released)},
      {"nodes_joined", "Other nodes heard for the first time.", value(nodes_joined)},
      {"nodes_silent", "Times another node fell silent: its users shown as not online here.",
       value(nodes_silent)},
      {"nodes_returned", "Times a silent node was heard again.", value(nodes_returned)},
      {"nodes_restarted", "Times another node came back as a new run.", value(nodes_restarted)},
      {"forwarded", "Publications to other nodes.", value(forwarded)},
      {"forward_failed", "Publications dropped: not connected to NATS, or refused by cnats.",
       value(forward_failed)},
      {"forward_expired", "Publications dropped: older than the claim TTL when due to leave.",
       value(forward_expired)},
      {"forward_too_long", "Lines for other nodes refused (sender answered): larger than NATS's max payload.",
       value(forward_too_long)},
      {"forward_overflow",
       "Lines for other nodes dropped before the publisher: more bytes waited for NATS than the bound.",
       value(forward_overflow)},
      {"received", "Publications from other nodes.", value(received)},
      {"gaps", "Detected jumps in another node's sequence.", value(gaps)},
      {"publications_missing", "Publications lost in those gaps.", value(missing)},
      {"publications_repeated", "Publications seen twice, dropped.", value(repeated)},
      {"publications_malformed", "Publications that could not be decoded.", value(malformed)},
      {"slow_consumer",
       "Times cnats began dropping publications from other nodes: this node fell behind (pending limits).",
       value(slow_consumer)},
  };
}

std::string ClusterStats::summary() const {
  auto text = [](const Counter& counter) {
    return std::to_string(counter.load(std::memory_order_relaxed));
  };
  return "claims " + text(claims) + " (refused: taken " + text(claims_taken) + ", unavailable " +
         text(claims_unavailable) + "), claims lost " + text(claims_lost) + ", sessions fenced " + text(sessions_fenced) + ", releases failed " +
         text(releases_failed) + ", stale claims released " + text(stale_released) +
         ", dead runs' claims released " + text(dead_run_released) + ", nodes joined " +
         text(nodes_joined) + " (silent " + text(nodes_silent) + ", returned " + text(nodes_returned) +
         ", restarted " + text(nodes_restarted) + ")" +
         ", forwarded " + text(forwarded) + " (failed " + text(forward_failed) + ", expired " + text(forward_expired) +
         ", too long " + text(forward_too_long) + ", overflow " + text(forward_overflow) + "), received " +
         text(received) + ", gaps " + text(gaps) + " (" + text(missing) + " publications lost)" +
         ", repeated " + text(repeated) + ", malformed " + text(malformed) + ", slow consumer " +
         text(slow_consumer);
}

}  // namespace achat::cluster
