// The body of the receiving thread: lines other nodes publish for users on this one.
#pragma once

#include <vector>

#include "achat/channel.h"
#include "achat/events.h"
#include "cluster_stats.h"
#include "nats_handles.h"
#include "sequence_check.h"
#include "stop_flag.h"

namespace achat::cluster {

// Runs on its own thread, blocked on the node's one synchronous subscription. Each publication
// is checked against its sender's sequence: a gap is logged and counted, a repeat dropped, and
// every line it carries goes to the broker as a RemoteDelivery through this thread's own Sender,
// so lines from one node reach the broker in the order that node published them. Publications
// already waiting go to the broker together (about kBatch events), with one wake-up. Returns,
// releasing its Sender, within kPoll of `stop`.
class Subscriber {
 public:
  Subscriber(natsSubscription* subscription, Sender<BrokerEvent> inbox, StopFlag& stop,
             ClusterStats& stats)
      : subscription_(subscription), inbox_(std::move(inbox)), stop_(stop), stats_(stats) {}

  void operator()();

 private:
  void handle(natsMsg* message);

  natsSubscription* subscription_;
  Sender<BrokerEvent> inbox_;
  StopFlag& stop_;
  ClusterStats& stats_;
  SequenceCheck sequences_;
  std::vector<BrokerEvent> batch_;  // received, not yet handed to the broker
};

}  // namespace achat::cluster
