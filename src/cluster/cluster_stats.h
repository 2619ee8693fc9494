// The cluster's counters. Any cluster thread increments them (relaxed atomics, read only for
// the log and /metrics; the per-peer losses behind their own mutex); one instance lives as long
// as the node. Also the claims stream's leader, written by the watcher thread and read by the
// metrics server's and main's (the stats line), behind its own mutex (claims_leader.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "achat/cluster.h"
#include "claims_leader.h"
#include "peer_losses.h"

namespace achat::cluster {

struct ClusterStats {
  using Counter = std::atomic<std::uint64_t>;

  Counter claims{0};               // logins claimed cluster-wide
  Counter claims_taken{0};         // refused: another session holds the login
  Counter claims_unavailable{0};   // refused: NATS could not answer (fail closed)
  Counter claims_lost{0};          // a held claim found gone or taken at refresh
  Counter sessions_fenced{0};      // sessions ended: their claims went unconfirmed too long
  Counter releases_failed{0};      // guarded deletes NATS refused or did not answer
  Counter stale_released{0};       // claims of a previous run of this node, deleted at start
  Counter dead_run_released{0};    // claims of a dead run of another node (it restarted), deleted
  Counter nodes_joined{0};         // other nodes heard for the first time
  Counter nodes_silent{0};         // times another node fell silent (its users unreachable)
  Counter nodes_returned{0};       // times a silent node was heard again
  Counter nodes_restarted{0};      // times another node came back as a new run
  Counter forwarded{0};            // publications to other nodes
  Counter forward_failed{0};       // publications not handed to cnats: disconnected, or refused
  Counter forward_expired{0};      // publications dropped: older than the claim TTL
  Counter forward_too_long{0};     // lines for other nodes refused: larger than NATS's max payload
  Counter forward_overflow{0};     // lines dropped: the queue to the publisher was full
  Counter received{0};             // publications from other nodes
  Counter gaps{0};                 // detected jumps in a sender's sequence
  Counter missing{0};              // publications lost in those gaps
  Counter repeated{0};             // publications seen twice, dropped
  Counter malformed{0};            // publications that could not be decoded
  Counter slow_consumer{0};        // slow-consumer episodes cnats reported (pending limits)
  PeerLosses per_peer;             // gaps and drops again, per peer node
  ClaimsLeader claims_leader;      // which NATS server leads the claims stream

  static void add(Counter& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  std::vector<ClusterCounter> counters() const;
  std::string summary() const;
};

}  // namespace achat::cluster
