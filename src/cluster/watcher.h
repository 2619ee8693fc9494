// The body of the watcher thread: binds the claims bucket and reports every claim change to the
// broker, which keeps the directory of who is online where.
#pragma once

#include <atomic>

#include "achat/channel.h"
#include "achat/events.h"
#include "claim_record.h"
#include "claims_bucket.h"
#include "cluster_stats.h"
#include "stop_flag.h"

namespace achat::cluster {

// Runs on its own thread: kvWatcher_Next blocks. Until the bucket can be bound and watched it
// retries every kRetry. Then it replays the current claims and follows the changes, sending each as a
// DirectoryChange through its own Sender (so the broker sees them in the bucket's order).
// Claims left by a previous run of this node (same node id, other incarnation) are deleted
// during the replay; `ready` becomes true once the replay is done, and logins are accepted from
// then on. If the watch fails it starts again with a fresh replay. Returns, releasing its
// Sender, within kPoll of `stop`.
struct Watcher {
  natsConnection* connection;
  ClaimsBucket& bucket;
  ClaimOwner self;
  Sender<BrokerEvent> inbox;
  std::atomic<bool>& ready;
  StopFlag& stop;
  ClusterStats& stats;

  void operator()();

 private:
  void follow(kvWatcher* watcher);
  void handle(kvEntry* entry);
};

}  // namespace achat::cluster
