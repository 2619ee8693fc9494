// The body of the publishing thread: lines for users on other nodes, out to NATS.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "achat/channel.h"
#include "cluster_stats.h"
#include "byte_window.h"
#include "nats_handles.h"
#include "routes.h"

namespace achat::cluster {

// Runs on its own thread, so the broker never waits on NATS. The Forwards it receives together
// (up to kBatch) travel as one publication per destination node (a large one is split at about
// kPublicationBytes, and before it would exceed the server's max payload), on that node's
// subject, numbered per destination (1, 2, ...) so the
// receiver can detect loss; one connection publishes them all, so lines leave in the order the
// broker routed them. Under load that makes one NATS message carry many lines; at a trickle
// each line still leaves at once. A publication is handed to cnats only while the connection is
// up and only if its oldest line was routed less than `max_age` (the claim TTL) ago, by this
// node's steady clock: one not handed over (disconnected, too old, or refused by cnats) is
// dropped, counted (forward_failed, forward_expired) and its number skipped, which the receiver
// then reports as a gap. So no line leaves later than the TTL after it was routed, by which
// time its recipient's claim may have lapsed and the name belong to someone else.
// Each batch's Forwards give their cost back to `window` (see Routes) once they are handed to
// cnats or dropped. cnats writes each publication at once (send-asap) under the connection's
// write deadline, so a stalled socket holds this thread, and the window, at most that long.
// Returns when its channel closes (the broker's Routes are gone) and everything received has
// been handed to cnats.
class Publisher {
 public:
  Publisher(natsConnection* connection, Receiver<Forward> forwards, ByteWindow& window,
            std::string origin, std::string incarnation, std::chrono::milliseconds max_age,
            ClusterStats& stats)
      : connection_(connection), forwards_(std::move(forwards)), window_(window),
        origin_(std::move(origin)), incarnation_(std::move(incarnation)), max_age_(max_age),
        stats_(stats) {}

  void operator()();

  static constexpr std::size_t kBatch = 64;
  static constexpr std::size_t kPublicationBytes = 64 * 1024;

 private:
  struct Destination {
    std::string subject;
    std::uint64_t next_sequence = 1;
    std::string payload;  // the publication being filled; empty between batches
    std::chrono::steady_clock::time_point oldest;  // when its first line was routed
  };

  void add(const Forward& forward);
  void publish(const std::string& node, Destination& destination);
  // Counts the drop for `node`; logs the first of a run.
  void fail(const std::string& node, const std::string& why);

  natsConnection* connection_;
  Receiver<Forward> forwards_;
  ByteWindow& window_;
  std::string origin_;
  std::string incarnation_;
  std::chrono::milliseconds max_age_;
  ClusterStats& stats_;

  std::unordered_map<std::string, Destination> destinations_;
  bool failing_ = false;  // logs the first failure of a run of them
  std::size_t max_bytes_ = 0;  // the server's max payload (0: not known), as of this batch
};

}  // namespace achat::cluster
