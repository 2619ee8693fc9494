// The body of the fence thread: ends the sessions whose claims NATS has not confirmed lately,
// before the claims can expire and another node take their names.
#pragma once

#include <chrono>

#include "achat/channel.h"
#include "achat/events.h"
#include "claim_book.h"
#include "cluster_stats.h"
#include "stop_flag.h"

namespace achat::cluster {

// How long a claim counts as held after the write that last confirmed it was *sent*: the TTL
// less a safety margin of a quarter of it (3.75 s of the default 15 s). NATS applied that write
// after it was sent, so the key lives until at least sent + TTL on the NATS server's clock; the
// margin covers what lies between this node's steady clock and that expiry: the fence's and the
// broker's own delay in ending the session (milliseconds), a NATS server's wall clock stepped
// forward, and, with replicas, the skew between their clocks. Refreshes come every third of the
// TTL, so one failed round is survived; the keeper retries sooner after one.
constexpr std::chrono::milliseconds fence_window(std::chrono::milliseconds ttl) { return ttl - ttl / 4; }

// Runs on its own thread, which never waits on NATS (only on the ClaimBook's mutex and its own
// timer), so a keeper blocked on a slow request cannot delay it. It wakes when the oldest
// claim's window ends, and for each held claim confirmed longer ago than fence_window(ttl) it
// sends the broker a ClaimLapsed (once per claim) through its own Sender: the broker alone ends
// the session. Returns, releasing its Sender, when `stop` is set.
struct Fence {
  ClaimBook& book;
  Sender<BrokerEvent> inbox;
  StopFlag& stop;
  std::chrono::milliseconds ttl;
  ClusterStats& stats;

  void operator()();
};

}  // namespace achat::cluster
