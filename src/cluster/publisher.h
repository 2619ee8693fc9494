// The body of the publishing thread: lines for users on other nodes, out to NATS.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "achat/channel.h"
#include "cluster_stats.h"
#include "nats_handles.h"
#include "routes.h"

namespace achat::cluster {

// Runs on its own thread, so the broker never waits on NATS. Publishes each Forward on its
// node's subject, numbered per destination node (1, 2, ...) so the receiver can detect loss;
// one connection publishes them all, so they leave in the order the broker routed them. A
// publication cnats refuses (disconnected and its reconnect buffer full) is counted and its
// number skipped, which the receiver then reports as a gap. Returns when its channel closes
// (the broker's Routes are gone) and everything received has been handed to cnats.
class Publisher {
 public:
  Publisher(natsConnection* connection, Receiver<Forward> forwards, std::string origin,
            std::string incarnation, ClusterStats& stats)
      : connection_(connection), forwards_(std::move(forwards)), origin_(std::move(origin)),
        incarnation_(std::move(incarnation)), stats_(stats) {}

  void operator()();

 private:
  void publish(const Forward& forward);

  natsConnection* connection_;
  Receiver<Forward> forwards_;
  std::string origin_;
  std::string incarnation_;
  ClusterStats& stats_;

  struct Destination {
    std::string subject;
    std::uint64_t next_sequence = 1;
  };
  std::unordered_map<std::string, Destination> destinations_;
  bool failing_ = false;  // logs the first failure of a run of them
};

}  // namespace achat::cluster
