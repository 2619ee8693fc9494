// The server's counters and gauges in Prometheus's text exposition format (version 0.0.4).
#pragma once

#include <string>
#include <string_view>

#include "achat/server.h"

namespace achat::metrics {

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// One scrape, formatted on the calling thread: reads the Stats atomics (relaxed: each counter
// is exact, the set is not one instant), the Registry for the open connections and their
// queued bytes, and the Crew's count of client threads (their mutexes are otherwise taken once
// per connect, disconnect or thread start and end; here only to count and copy). Never touches
// the broker. Every family has # HELP and # TYPE; counters end in _total. In a cluster, the
// node's counters follow as achat_cluster_*_total, and which NATS server leads the claims
// stream (achat_cluster_claims_leader_info{server="..."} 1, the name's `\` `"` and newline
// escaped). The standard process_* families (memory,
// fds, CPU, start time) are read from /proc/self on the same thread.
std::string exposition(const Server& server);

// `value` as a label value of the text format: `\` as `\\`, `"` as `\"`, a newline as `\n`.
std::string label_value(std::string_view value);

}  // namespace achat::metrics
