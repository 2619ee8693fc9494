// The broker's routes to the other nodes: the directory, and the lines waiting to be published.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "cluster_stats.h"
#include "directory.h"
#include "payload_limit.h"

namespace achat::cluster {

// One chat line for some of one node's users, on its way from the broker to the publisher.
struct Forward {
  std::string node;
  std::string recipients;  // comma-separated
  OutboundLine delivery;
  std::uint64_t message = 0;  // the broker's stamp: recipients of one message share a Forward
  std::chrono::steady_clock::time_point routed;  // when the broker routed it: its age counts from here
};

// Owned and used by the broker thread. A line too large for one NATS publication (with its
// envelope) is not queued; the broker answers its sender. Lines are handed to the publisher in the order the
// broker routed them, through one Sender, so the publisher sees each sender's lines in order.
// Destroying it closes the publisher's channel.
class Routes final : public ClusterRoutes {
 public:
  // `limit` and `stats` (forward_too_long) must outlive it.
  Routes(Directory directory, Sender<Forward> publisher, const PayloadLimit& limit, ClusterStats& stats)
      : directory_(std::move(directory)), publisher_(std::move(publisher)), limit_(limit), stats_(stats) {}

  Forwarding forward(std::string_view address, std::string_view unique, std::uint64_t message,
               const OutboundLine& delivery) override;
  void flush() override;
  bool apply(const DirectoryChange& change) override;
  void apply(const NodePresence& presence) override { directory_.apply(presence); }

 private:
  Directory directory_;
  Sender<Forward> publisher_;
  const PayloadLimit& limit_;
  ClusterStats& stats_;
  std::vector<Forward> pending_;
};

}  // namespace achat::cluster
