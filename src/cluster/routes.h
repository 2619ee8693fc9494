// The broker's routes to the other nodes: the directory, and the lines waiting to be published.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "achat/channel.h"
#include "achat/cluster.h"
#include "byte_window.h"
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
  std::int64_t cost = 0;  // what it holds of the publisher's ByteWindow until handled

  // What a Forward costs while it waits for the publisher, as a queued line is counted
  // (connection.h): its bytes, its slot, and a line's overhead (the line is counted in full
  // though local recipients share it, which over-counts and so keeps the bound).
  std::int64_t weight() const noexcept {
    return static_cast<std::int64_t>(sizeof(Forward) + node.size() + recipients.size() +
                                     delivery->size()) + kQueuedLineOverhead;
  }
};

// Owned and used by the broker thread. A line too large for one NATS publication (with its
// envelope) is not queued; the broker answers its sender. Lines are handed to the publisher in
// the order the broker routed them, through one Sender, so the publisher sees each sender's lines in order.
// What waits for the publisher is bounded in bytes by `to_publisher`: a Forward that does not
// fit is dropped at once, counted (forward_overflow, and per peer as dropped), so a publisher
// held up by NATS never makes the broker wait or the queue grow. The subscriber's window
// (`from_subscriber`) gets back what the broker reports handled. Destroying it closes the
// publisher's channel. `limit`, the windows and `stats` must outlive it (the Node owns them).
class Routes final : public ClusterRoutes {
 public:
  Routes(Directory directory, Sender<Forward> publisher, const PayloadLimit& limit,
         ByteWindow& to_publisher, ByteWindow& from_subscriber, ClusterStats& stats)
      : directory_(std::move(directory)), publisher_(std::move(publisher)), limit_(limit),
        to_publisher_(to_publisher), from_subscriber_(from_subscriber), stats_(stats) {}

  Forwarding forward(std::string_view address, std::string_view unique, std::uint64_t message,
                     const OutboundLine& delivery) override;
  void flush() override;
  void handled_remote(std::int64_t bytes) override { from_subscriber_.give_back(bytes); }
  bool apply(const DirectoryChange& change) override;
  void apply(const NodePresence& presence) override { directory_.apply(presence); }
  void online_names(std::vector<std::string_view>& names) override {
    directory_.online_names(Directory::Clock::now(), names);
  }

 private:
  Directory directory_;
  Sender<Forward> publisher_;
  const PayloadLimit& limit_;
  ByteWindow& to_publisher_;
  ByteWindow& from_subscriber_;
  ClusterStats& stats_;
  std::vector<Forward> pending_;
  bool overflowing_ = false;  // logs the first drop of a run of them
};

}  // namespace achat::cluster
