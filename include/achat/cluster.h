// What the core server asks of a cluster of a-chat nodes; src/cluster/ implements it. A server
// started without --cluster creates none of these objects and runs as a single process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "achat/channel.h"
#include "achat/events.h"

namespace achat {

struct ClusterConfig {
  std::vector<std::string> servers;  // NATS URLs, tried in this order; empty: standalone
  std::string node_id;               // this node's name in subjects and claims
  // How long a claim outlives the node that holds it (a crash): the bucket's max age. Claims
  // are refreshed every third of it. Every node of a cluster should use the same value.
  unsigned claim_ttl_ms = 15'000;
  // Copies of the claims bucket on the NATS servers; 0: 3 if at least three servers are listed,
  // else 1. With 3, logins go on while any one server is lost. Every node should use the same.
  unsigned claim_replicas = 0;
  // A node not heard from for this long (it beats every third of it) has its users shown as not
  // online on the others; their names stay taken until their claims expire.
  unsigned node_silence_ms = 3'000;

  bool enabled() const noexcept { return !servers.empty(); }
  unsigned replicas() const noexcept {
    return claim_replicas ? claim_replicas : (servers.size() >= 3 ? 3u : 1u);
  }
};

// The broker's view of the other nodes: which of them has a name online, and the lines for
// them. Used by the broker thread alone; no call blocks.
class ClusterRoutes {
 public:
  // What forward() did with a line.
  enum class Forwarding {
    not_held,  // no other node holds the name
    queued,    // on its way to the node that does
    too_long,  // another node holds it, but the line cannot fit in a NATS publication: dropped
  };

  virtual ~ClusterRoutes() = default;
  // Queues `delivery` for the recipient `address` (its address key, what the other node matches
  // its logins against) if another node holds a login of uniqueness key `unique` (see
  // login_name.h) and the line fits in the NATS servers' max payload. Recipients of one message
  // (one `message` stamp) on one node travel as one publication while it fits.
  virtual Forwarding forward(std::string_view address, std::string_view unique, std::uint64_t message,
                             const OutboundLine& delivery) = 0;
  // Hands everything forward() queued to the publishing thread, in order; what would exceed the
  // byte bound on that queue is dropped and counted instead (the broker never waits for NATS).
  virtual void flush() = 0;
  // The broker has handled lines from other nodes of this unrouted_cost (events.h): the
  // subscriber may hand over that much more.
  virtual void handled_remote(std::int64_t bytes) = 0;
  // Records the change; true if it is a claim of the name by another node.
  virtual bool apply(const DirectoryChange& change) = 0;
  // Records whether a node's users are reachable (and drops the names of a dead run of it).
  virtual void apply(const NodePresence& presence) = 0;
  // Appends the logins online on other nodes, as their holders typed them (for "/who"), in no
  // particular order; the views are valid until the next apply().
  virtual void online_names(std::vector<std::string_view>& names) = 0;
};

// One of a node's counters (since it joined), for /metrics: `name` is a Prometheus name part
// (`claims_lost` becomes achat_cluster_claims_lost_total).
struct ClusterCounter {
  std::string_view name;
  std::string_view help;
  std::uint64_t value;
};

// Cross-node publications (one or more lines each) lost between this node and `node`, since
// this node joined: `missing_from` lost on the way from it (gaps in its sequence), `dropped_for`
// dropped here before NATS had them (disconnected, refused, older than the claim TTL, or, as
// single lines, over the bound on what may wait for NATS).
struct ClusterPeerLosses {
  std::string node;
  std::uint64_t missing_from = 0;
  std::uint64_t dropped_for = 0;
};

// Which NATS server leads the claims stream, as this node last asked (about once a second):
// `server` is that server's server_name (a server outside any JetStream cluster names itself in
// no reply: then the host:port this node reaches it at), cut to 128 bytes, every byte outside printable ASCII
// written as \xNN (it comes from the network); empty while unknown (NATS did not answer, or an
// election is under way). `replicas`: the stream's copies; `current`: how many of them, the
// leader's included, have caught up with the leader; both 0 while unknown.
struct ClusterClaimsLeader {
  std::string server;
  unsigned replicas = 0;
  unsigned current = 0;
};

// This process's membership in the cluster: its NATS connection and the threads that talk to
// NATS. Created and destroyed by the thread that controls the Server. The destructor releases
// every login this node still holds, then closes the connection.
class ClusterNode {
 public:
  virtual ~ClusterNode() = default;
  // Takes `login` cluster-wide, keyed by its uniqueness key (so no node lets a look-alike in),
  // blocking on NATS (so: reader threads, never the broker). On
  // refusal returns nullptr and sets `refusal` to the error line's text: `login "NAME" is
  // already online, disconnecting`, or `cluster unavailable, try again` while NATS cannot
  // answer. Either way the connection is then closed.
  virtual std::unique_ptr<LoginLease> claim(const LoginName& login, std::string& refusal) = 0;
  // The broker's routes; call once.
  virtual std::unique_ptr<ClusterRoutes> routes() = 0;
  // Stops feeding the broker (remote lines, claim changes): lets its inbox close on shutdown.
  virtual void stop_receiving() = 0;
  // Any thread, while the node lives: its counters now (each exact; the set is not one
  // instant), as a list and as the log's one-line summary.
  virtual std::vector<ClusterCounter> counters() const = 0;
  virtual std::string summary() const = 0;
  // Any thread: whether a login could be confirmed now (the claims bucket is bound and watched,
  // and its connection is up), for /healthz.
  virtual bool confirming_logins() const = 0;
  // Any thread: the other nodes heard from lately (a gauge for /metrics and the stats line).
  virtual std::size_t live_nodes() const = 0;
  // Any thread: losses per peer node that lost any, by node id.
  virtual std::vector<ClusterPeerLosses> peer_losses() const = 0;
  // Any thread: which NATS server leads the claims stream (/metrics and the stats line).
  virtual ClusterClaimsLeader claims_leader() const = 0;
};

// Connects in the background: a NATS that is down now only delays the first login. Events for
// the broker go through `inbox`. Throws std::runtime_error if NATS rejects the configuration,
// or if another live process already uses the node id (its heartbeats heard at start).
std::unique_ptr<ClusterNode> join_cluster(const ClusterConfig& config, Sender<BrokerEvent> inbox);

}  // namespace achat
