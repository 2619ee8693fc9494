// Which NATS server leads the claims stream: read from the stream's info by the watcher, kept
// for /metrics and the stats line, logged when it changes.
#pragma once

#include <nats/nats.h>

#include <mutex>
#include <string>
#include <string_view>

#include "achat/cluster.h"

namespace achat::cluster {

// At most this much of a server's name is kept (a server_name is an operator's short label).
inline constexpr std::size_t kMaxServerNameBytes = 128;

// `name` as ClusterClaimsLeader promises it: at most kMaxServerNameBytes of it, each byte
// outside printable ASCII (a newline, a control, UTF-8) written as \xNN, so a log line or a
// label built from it stays one line. `"` and `\` are kept: the label's writer escapes them.
std::string printable_server_name(std::string_view name);

// The host:port of the server `connection` is connected to, without scheme or credentials;
// empty if it is not connected.
std::string connected_server(natsConnection* connection);

// What a stream's info says of where it lives (its Cluster part): the leader's name, the
// stream's copies (the leader and its Replicas) and how many are caught up (the leader, and each
// replica cnats reports Current and not Offline). A server outside any JetStream cluster sends
// no Cluster part (nats-server 2.9.10): the stream then lives on that server alone, named by
// `alone` (connected_server(): such a reply names no server, and cnats does not expose the
// server_name its INFO gave), 1 copy, current. Unknown (empty, 0, 0) if `info` is null, names no
// leader (an election is under way), or has no Cluster part and `alone` is empty.
ClusterClaimsLeader placement_of(const jsStreamInfo* info, std::string_view alone);

// Written by the watcher thread (observe(), after each look at the stream's info: about once a
// second, every half second while NATS does not answer); read by any thread (get(): the
// metrics server's thread per scrape, main's for the stats line). A mutex guards the value,
// held only to copy it. Logs one info line when the leading server changes, so at most one per
// look, and none while it stays the same.
class ClaimsLeader {
 public:
  void observe(ClusterClaimsLeader now);
  ClusterClaimsLeader get() const;

 private:
  mutable std::mutex mutex_;
  ClusterClaimsLeader last_;  // guarded by mutex_
};

}  // namespace achat::cluster
