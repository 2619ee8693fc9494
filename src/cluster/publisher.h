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

// Runs on its own thread, so the broker never waits on NATS. The Forwards it receives together
// (up to kBatch) travel as one publication per destination node (a large one is split at about
// kPublicationBytes), on that node's subject, numbered per destination (1, 2, ...) so the
// receiver can detect loss; one connection publishes them all, so lines leave in the order the
// broker routed them. Under load that makes one NATS message carry many lines; at a trickle
// each line still leaves at once. A publication cnats refuses (disconnected and its reconnect
// buffer full) is counted and its number skipped, which the receiver then reports as a gap.
// Returns when its channel closes (the broker's Routes are gone) and everything received has
// been handed to cnats.
class Publisher {
 public:
  Publisher(natsConnection* connection, Receiver<Forward> forwards, std::string origin,
            std::string incarnation, ClusterStats& stats)
      : connection_(connection), forwards_(std::move(forwards)), origin_(std::move(origin)),
        incarnation_(std::move(incarnation)), stats_(stats) {}

  void operator()();

  static constexpr std::size_t kBatch = 64;
  static constexpr std::size_t kPublicationBytes = 64 * 1024;

 private:
  struct Destination {
    std::string subject;
    std::uint64_t next_sequence = 1;
    std::string payload;  // the publication being filled; empty between batches
  };

  void add(const Forward& forward);
  void publish(const std::string& node, Destination& destination);

  natsConnection* connection_;
  Receiver<Forward> forwards_;
  std::string origin_;
  std::string incarnation_;
  ClusterStats& stats_;

  std::unordered_map<std::string, Destination> destinations_;
  bool failing_ = false;  // logs the first failure of a run of them
};

}  // namespace achat::cluster
