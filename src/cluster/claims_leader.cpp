#include "claims_leader.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <utility>

namespace achat::cluster {

std::string printable_server_name(std::string_view name) {
  std::string text;
  for (const char c : name.substr(0, kMaxServerNameBytes)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      text.push_back(c);
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      text.append(escaped);
    }
  }
  return text;
}

std::string connected_server(natsConnection* connection) {
  char url[256] = "";
  if (!connection || natsConnection_GetConnectedUrl(connection, url, sizeof url) != NATS_OK) return {};
  std::string_view text(url);
  if (const auto scheme = text.find("://"); scheme != std::string_view::npos) text.remove_prefix(scheme + 3);
  if (const auto at = text.rfind('@'); at != std::string_view::npos) text.remove_prefix(at + 1);
  return std::string(text);
}

ClusterClaimsLeader placement_of(const jsStreamInfo* info, std::string_view alone) {
  if (!info) return {};
  if (!info->Cluster) return alone.empty() ? ClusterClaimsLeader{} : ClusterClaimsLeader{printable_server_name(alone), 1, 1};
  if (!info->Cluster->Leader || !*info->Cluster->Leader) return {};
  const jsClusterInfo& cluster = *info->Cluster;
  ClusterClaimsLeader placement{printable_server_name(cluster.Leader), 1, 1};
  for (int i = 0; i < cluster.ReplicasLen; ++i) {
    const jsPeerInfo* peer = cluster.Replicas ? cluster.Replicas[i] : nullptr;
    if (!peer) continue;
    ++placement.replicas;
    if (peer->Current && !peer->Offline) ++placement.current;
  }
  return placement;
}

void ClaimsLeader::observe(ClusterClaimsLeader now) {
  std::string was;
  {
    std::lock_guard lock(mutex_);
    if (now.server == last_.server) {
      last_ = std::move(now);  // the replicas' state may have changed
      return;
    }
    was = std::move(last_.server);
    last_ = now;
  }
  const auto shown = [](const std::string& server) { return server.empty() ? std::string("(unknown)") : server; };
  spdlog::info("cluster: claims stream leader: {} -> {} ({}/{} replicas current)", shown(was),
               shown(now.server), now.current, now.replicas);
}

ClusterClaimsLeader ClaimsLeader::get() const {
  std::lock_guard lock(mutex_);
  return last_;
}

}  // namespace achat::cluster
