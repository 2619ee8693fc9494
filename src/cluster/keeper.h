// The body of the keeper thread: keeps this node's claims alive and gives back released ones.
#pragma once

#include <chrono>
#include <string>

#include "claim_book.h"
#include "claims_bucket.h"
#include "cluster_stats.h"

namespace achat::cluster {

// Runs on its own thread because every call it makes waits for a JetStream acknowledgement.
// Every third of the claim TTL it refreshes each held claim (revision-guarded); a claim found
// expired is taken again if it is still free, otherwise counted as lost. A released claim is
// deleted, guarded by its latest revision. On ClaimBook::stop() it deletes every claim still
// held, then returns. Claims it cannot delete (NATS away) expire after the TTL.
struct Keeper {
  ClaimBook& book;
  ClaimsBucket& bucket;
  natsConnection* connection;
  std::string owner_value;  // this node's ClaimOwner, as stored
  std::chrono::milliseconds ttl;
  ClusterStats& stats;

  void operator()();

 private:
  void refresh_all();
  bool remove(const ClaimBook::Claim& claim);  // false if NATS did not answer
};

}  // namespace achat::cluster
