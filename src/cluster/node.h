// This process's membership in the cluster: the NATS connections and the threads that use them.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "achat/cluster.h"
#include "achat/crew.h"
#include "claim_book.h"
#include "claim_record.h"
#include "claim_refresher.h"
#include "byte_window.h"
#include "claims_bucket.h"
#include "cluster_stats.h"
#include "nats_handles.h"
#include "node_roster.h"
#include "payload_limit.h"
#include "routes.h"
#include "stop_flag.h"

namespace achat::cluster {

// Created and destroyed by the thread that controls the Server; claim() is called by reader
// threads. The constructor throws, before any thread starts, if another live process beats
// under this node id (identity_check.h). Owns two connections to the same servers (cnats reconnects each by itself, to any
// server it knows): one for chat lines between nodes (publisher, subscriber) and one for the
// claims bucket (logins, keeper, watcher). A NATS server writes JetStream messages in the order
// a connection sent them, so on one connection a burst of claim writes (a keeper round, a login
// storm) would hold up every chat line queued behind it; apart, a slow bucket delays only
// logins and refreshes. It also owns six threads: the watcher, the subscriber, the presence
// thread (heartbeats: which nodes are reachable) and the fence (which ends sessions whose claims
// NATS has not confirmed in time) feed the broker until stop_receiving(); the publisher drains the broker's Forwards until the Routes are destroyed;
// the keeper refreshes and releases claims until the destructor, which first releases every
// claim still held. The watcher also binds the claims bucket again if its stream is deleted or
// made again while the node runs, and the keeper then claims every held login again. confirming_logins() may be called from any thread.
// Destroy it only after the broker that owns its Routes has finished.
class Node final : public ClusterNode {
 public:
  Node(ClusterConfig config, Sender<BrokerEvent> inbox);
  ~Node() override;

  // A name held elsewhere is refused as `already online`, or, if its holder has fallen silent,
  // with how long it has been silent and when the claim expires at the latest if it stays so.
  std::unique_ptr<LoginLease> claim(const LoginName& login, std::string& refusal) override;
  std::unique_ptr<ClusterRoutes> routes() override;
  void stop_receiving() override;
  std::vector<ClusterCounter> counters() const override;
  std::string summary() const override;
  bool confirming_logins() const override;
  std::size_t live_nodes() const override { return roster_.live(); }
  std::vector<ClusterPeerLosses> peer_losses() const override { return stats_.per_peer.snapshot(); }
  ClusterClaimsLeader claims_leader() const override { return stats_.claims_leader.get(); }

 private:
  std::string taken_refusal(const LoginName& login, const std::string& key);
  std::uint64_t slow_consumer_dropped() const;  // cnats's count, on the lines subscription

  const ClusterConfig config_;
  const ClaimOwner self_;
  ClusterStats stats_;
  const std::string lines_label_;   // "<node> lines", for the connection's log lines
  const std::string claims_label_;  // "<node> claims"
  PayloadLimit payload_limit_;      // the lines connection's server's max payload
  NatsOptionsHandle lines_options_;
  NatsOptionsHandle claims_options_;
  ByteWindow inbound_;   // subscriber -> broker: lines from other nodes the broker has not handled
  ByteWindow outbound_;  // broker -> publisher: lines for other nodes not yet handed to cnats
  NatsConnectionHandle lines_connection_;
  NatsConnectionHandle claims_connection_;
  NatsSubscriptionHandle subscription_;
  NatsSubscriptionHandle beats_;  // every node's heartbeats (presence.h)
  std::unique_ptr<ClaimsBucket> bucket_;
  std::unique_ptr<ClaimRefresher> refresher_;  // the keeper's
  ClaimBook book_;
  NodeRoster roster_;
  std::atomic<bool> ready_{false};
  StopFlag receiving_stopped_;
  Sender<Forward> forwards_;  // handed to the Routes
  Crew crew_;                 // last: its threads use everything above
};

}  // namespace achat::cluster
