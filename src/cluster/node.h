// This process's membership in the cluster: the NATS connection and the threads that use it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "achat/cluster.h"
#include "achat/crew.h"
#include "claim_book.h"
#include "claim_record.h"
#include "claim_refresher.h"
#include "claims_bucket.h"
#include "cluster_stats.h"
#include "nats_handles.h"
#include "routes.h"
#include "stop_flag.h"

namespace achat::cluster {

// Created and destroyed by the thread that controls the Server; claim() is called by reader
// threads. Owns the connection (which cnats reconnects by itself, to any server it knows) and
// four threads: the watcher and the subscriber feed the broker until stop_receiving(); the
// publisher drains the broker's Forwards until the Routes are destroyed; the keeper refreshes
// and releases claims until the destructor, which first releases every claim still held.
// Destroy it only after the broker that owns its Routes has finished.
class Node final : public ClusterNode {
 public:
  Node(ClusterConfig config, Sender<BrokerEvent> inbox);
  ~Node() override;

  std::unique_ptr<LoginLease> claim(const std::string& name, std::string& refusal) override;
  std::unique_ptr<ClusterRoutes> routes() override;
  void stop_receiving() override;
  std::vector<ClusterCounter> counters() const override { return stats_.counters(); }
  std::string summary() const override { return stats_.summary(); }

 private:
  const ClusterConfig config_;
  const ClaimOwner self_;
  const std::string owner_value_;
  ClusterStats stats_;
  NatsOptionsHandle options_;
  NatsConnectionHandle connection_;
  NatsSubscriptionHandle subscription_;
  std::unique_ptr<ClaimsBucket> bucket_;
  std::unique_ptr<ClaimRefresher> refresher_;  // the keeper's
  ClaimBook book_;
  std::atomic<bool> ready_{false};
  StopFlag receiving_stopped_;
  Sender<Forward> forwards_;  // handed to the Routes
  Crew crew_;                 // last: its threads use everything above
};

}  // namespace achat::cluster
