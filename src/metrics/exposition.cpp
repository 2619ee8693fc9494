#include "exposition.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "achat/cluster.h"
#include "achat/registry.h"
#include "process_sample.h"

namespace achat::metrics {

namespace {

struct Sample {
  std::string_view labels;  // `reason="stalled"`, or empty
  std::uint64_t value;
};

void append_family(std::string& text, std::string_view name, std::string_view type,
                   std::string_view help, std::initializer_list<Sample> samples) {
  text.append("# HELP ").append(name).append(" ").append(help).append("\n");
  text.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  for (const Sample& sample : samples) {
    text.append(name);
    if (!sample.labels.empty()) text.append("{").append(sample.labels).append("}");
    text.append(" ").append(std::to_string(sample.value)).append("\n");
  }
}

// A family of one unlabelled sample that may be missing (then the family is left out).
template <typename Value>
void append_optional(std::string& text, std::string_view name, std::string_view type,
                     std::string_view help, const std::optional<Value>& value) {
  if (!value) return;
  if constexpr (std::is_floating_point_v<Value>) {
    char formatted[32];
    std::snprintf(formatted, sizeof formatted, "%.3f", *value);
    text.append("# HELP ").append(name).append(" ").append(help).append("\n");
    text.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    text.append(name).append(" ").append(formatted).append("\n");
  } else {
    append_family(text, name, type, help, {{"", *value}});
  }
}

void append_process(std::string& text) {
  const ProcessSample process = sample_process();
  append_optional(text, "process_cpu_seconds_total", "counter",
                  "Total user and system CPU time spent in seconds.", process.cpu_seconds);
  append_optional(text, "process_open_fds", "gauge", "Number of open file descriptors.",
                  process.open_fds);
  append_optional(text, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                  process.max_fds);
  append_optional(text, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                  process.virtual_memory_bytes);
  append_optional(text, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                  process.resident_memory_bytes);
  append_optional(text, "process_start_time_seconds", "gauge",
                  "Start time of the process since unix epoch in seconds.",
                  process.start_time_seconds);
}

// Per peer node, labelled node="<id>" (node ids are [A-Za-z0-9_-]: nothing to escape).
void append_peer_losses(std::string& text, const std::vector<ClusterPeerLosses>& peers) {
  const auto family = [&](std::string_view name, std::string_view help, auto value) {
    text.append("# HELP ").append(name).append(" ").append(help).append("\n");
    text.append("# TYPE ").append(name).append(" counter\n");
    for (const ClusterPeerLosses& peer : peers) {
      text.append(name).append("{node=\"").append(peer.node).append("\"} ");
      text.append(std::to_string(value(peer))).append("\n");
    }
  };
  family("achat_cluster_peer_publications_missing_total",
         "Publications from a peer node lost on the way (gaps in its sequence), by node.",
         [](const ClusterPeerLosses& peer) { return peer.missing_from; });
  family("achat_cluster_peer_publications_dropped_total",
         "Publications for a peer node dropped here before NATS had them, by node.",
         [](const ClusterPeerLosses& peer) { return peer.dropped_for; });
}

}  // namespace

std::string label_value(std::string_view value) {
  std::string text;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      text.push_back('\\');
      text.push_back(c);
    } else if (c == '\n') {
      text.append("\\n");
    } else {
      text.push_back(c);
    }
  }
  return text;
}

namespace {

// Which NATS server leads the claims stream: an info metric, one series, server="" while unknown.
void append_claims_leader(std::string& text, const ClusterClaimsLeader& leader) {
  const std::string labels = "server=\"" + label_value(leader.server) + "\"";
  append_family(text, "achat_cluster_claims_leader_info", "gauge",
                "Always 1; the label is the server_name of the NATS server leading the claims stream "
                "as this node last read it (about once a second), empty while unknown.",
                {{labels, 1}});
  append_family(text, "achat_cluster_claims_replicas", "gauge",
                "Copies of the claims stream (0 while its leader is unknown).", {{"", leader.replicas}});
  append_family(text, "achat_cluster_claims_replicas_current", "gauge",
                "Copies of the claims stream caught up with its leader, the leader's included (0 while unknown).",
                {{"", leader.current}});
}

struct CounterFamily {
  std::string_view name;
  std::string_view help;
  Stats::Counter Stats::*counter;
};

const CounterFamily kCounters[] = {
    {"achat_connections_refused_total",
     "Connections refused with \"server full\": client limit reached or no thread could start.",
     &Stats::connections_refused},
    {"achat_logins_total", "Logins accepted.", &Stats::logins},
    {"achat_refusals_closed_at_once_total",
     "Refused connections closed right after their error line, without the linger: the refusal "
     "thread already held all the descriptors set aside for it.",
     &Stats::refusals_closed_at_once},
    {"achat_logins_refused_total",
     "Logins refused: invalid, already online, login timeout, or login line too long.",
     &Stats::logins_refused},
    {"achat_messages_accepted_total", "Chat lines handed to the broker.", &Stats::messages_accepted},
    {"achat_deliveries_routed_total", "Message x recipient pairs queued for a writer.",
     &Stats::deliveries_routed},
    {"achat_lines_written_total", "Lines writers put on sockets (deliveries and notices).",
     &Stats::lines_written},
    {"achat_lines_undeliverable_total", "Lines queued for a writer whose connection failed first.",
     &Stats::lines_undeliverable},
    {"achat_protocol_errors_total", "Error lines sent for malformed input.", &Stats::protocol_errors},
    {"achat_not_online_replies_total", "\"error: not online\" notices sent.",
     &Stats::not_online_replies},
    {"achat_writer_wakeups_total",
     "Times a writer found its queue empty and waited; / lines written = wake-ups per line.",
     &Stats::writer_wakeups},
    {"achat_broker_rounds_total", "Broker receive rounds that handled at least one event.",
     &Stats::broker_rounds},
    {"achat_broker_events_total", "Events the broker handled; / rounds = average batch.",
     &Stats::broker_events},
    {"achat_web_socket_writes_total",
     "Socket writes on --web-listen connections: a batch of WebSocket frames (up to 64 lines), "
     "a control frame, an HTTP response.",
     &Stats::web_socket_writes},
    {"achat_log_lines_dropped_total", "Log lines dropped because the log could not keep up.",
     &Stats::log_lines_dropped},
};

}  // namespace

std::string exposition(const Server& server) {
  const Stats& stats = server.stats();
  auto count = [&](Stats::Counter Stats::*counter) {
    return (stats.*counter).load(std::memory_order_relaxed);
  };
  std::string text;
  append_family(text, "achat_build_info", "gauge", "Always 1; the version is a label.",
                {{"version=\"" ACHAT_VERSION "\"", 1}});
  const Registry::OpenCounts open = server.registry().open_counts();
  append_family(text, "achat_connections_open", "gauge",
                "Connections open now, logged in or not, by transport (as accepted_total).",
                {{"transport=\"tcp\"", open.tcp}, {"transport=\"ws\"", open.web}});
  append_family(text, "achat_users_logged_in", "gauge", "Users logged in now (on this node).",
                {{"", count(&Stats::logged_in)}});
  const ThreadCounts threads = server.thread_counts();
  append_family(text, "achat_client_threads", "gauge", "Reader and writer threads serving a connection.",
                {{"", threads.running}});
  append_family(text, "achat_client_threads_parked", "gauge",
                "Reader and writer threads in the thread cache, waiting for a connection.",
                {{"", threads.parked}});
  append_family(text, "achat_client_threads_created_total", "counter",
                "Reader and writer threads started.", {{"", threads.created}});
  append_family(text, "achat_client_threads_reused_total", "counter",
                "Connections' reader and writer threads taken from the thread cache.",
                {{"", threads.reused}});
  append_family(text, "achat_queued_bytes", "gauge",
                "Outbound bytes queued for writers and not yet written, all connections.",
                {{"", static_cast<std::uint64_t>(std::max<std::int64_t>(server.queued_bytes(), 0))}});
  append_family(text, "achat_connections_accepted_total", "counter",
                "Connections accepted, including those then refused, by transport: the chat port "
                "(tcp) or the --web-listen port (ws).",
                {{"transport=\"tcp\"", count(&Stats::tcp_connections_accepted)},
                 {"transport=\"ws\"", count(&Stats::web_connections_accepted)}});
  for (const CounterFamily& family : kCounters) {
    append_family(text, family.name, "counter", family.help, {{"", count(family.counter)}});
  }
  append_family(text, "achat_clients_cut_total", "counter",
                "Clients the server disconnected to protect itself, by reason.",
                {{"reason=\"slow_consumer\"", count(&Stats::slow_consumers)},
                 {"reason=\"stalled\"", count(&Stats::stalled_consumers)},
                 {"reason=\"error_flood\"", count(&Stats::error_floods)},
                 {"reason=\"budget\"", count(&Stats::budget_cuts)}});
  append_process(text);
  if (const ClusterNode* cluster = server.cluster()) {
    append_family(text, "achat_cluster_live_nodes", "gauge",
                  "Other nodes heard from lately (their users reachable from here).",
                  {{"", static_cast<std::uint64_t>(cluster->live_nodes())}});
    append_peer_losses(text, cluster->peer_losses());
    append_claims_leader(text, cluster->claims_leader());
    for (const ClusterCounter& counter : cluster->counters()) {
      append_family(text, "achat_cluster_" + std::string(counter.name) + "_total", "counter",
                    counter.help, {{"", counter.value}});
    }
  }
  return text;
}

}  // namespace achat::metrics
