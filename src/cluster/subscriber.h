// The body of the receiving thread: lines other nodes publish for users on this one.
#pragma once

#include <vector>

#include "achat/channel.h"
#include "achat/events.h"
#include "byte_window.h"
#include "cluster_stats.h"
#include "nats_handles.h"
#include "sequence_check.h"
#include "stop_flag.h"

namespace achat::cluster {

// Runs on its own thread, blocked on the node's one synchronous subscription. Each publication
// is checked against its sender's sequence: a gap is logged and counted, a repeat dropped, and
// every line it carries goes to the broker as a RemoteDelivery through this thread's own Sender,
// so lines from one node reach the broker in the order that node published them. Publications
// already waiting go to the broker together (about kBatch events), with one wake-up.
// Flow control, as a reader's: the lines handed to the broker and not yet handled hold their
// unrouted_cost (events.h) of `window`; while the next publication does not fit, this thread
// hands over what it has and waits, so what NATS delivers meanwhile waits in cnats, whose
// pending limits (set by the Node) then drop it: cnats counts the drops and reports a slow
// consumer, and the senders' sequence numbers show the gap here once it resumes. Returns,
// releasing its Sender, within kPoll of `stop` (the window's wait too).
class Subscriber {
 public:
  Subscriber(natsSubscription* subscription, Sender<BrokerEvent> inbox, ByteWindow& window,
             StopFlag& stop, ClusterStats& stats)
      : subscription_(subscription), inbox_(std::move(inbox)), window_(window), stop_(stop),
        stats_(stats) {}

  void operator()();

 private:
  // False if it waited for the broker and `stop` came first (the publication is dropped).
  bool handle(natsMsg* message);
  void hand_over();

  natsSubscription* subscription_;
  Sender<BrokerEvent> inbox_;
  ByteWindow& window_;
  StopFlag& stop_;
  ClusterStats& stats_;
  SequenceCheck sequences_;
  std::vector<BrokerEvent> batch_;  // received, not yet handed to the broker
};

}  // namespace achat::cluster
