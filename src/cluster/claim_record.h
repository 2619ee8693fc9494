// How a login's claim is written in the claims bucket.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace achat::cluster {

// A claim is keyed by the login's uniqueness key (LoginName::unique, its confusable skeleton), so
// two nodes cannot let `Bob` and `bob` in at once. KV keys allow only [-/_=.a-zA-Z0-9] and the
// key is any UTF-8, so the claim key is its bytes in lower-case hex. Every node of a cluster
// must run the same rule (same a-chat and ICU version), or their keys for one name could differ.
std::string claim_key(std::string_view login);
// The uniqueness key a claim key encodes (what the directory is keyed by, and what the cluster's
// log lines about claims show: `rnary` for mary); nullopt if `key` is not a claim key (not hex).
std::optional<std::string> login_of_key(std::string_view key);

// The value: which node holds the login, and which run of that node ("node incarnation"), so a
// node restarted under the same id can tell its previous run's claims from its own.
struct ClaimOwner {
  std::string node;
  std::string incarnation;

  std::string to_value() const;
  static std::optional<ClaimOwner> parse(std::string_view value);
};

// A node id is one NATS subject token and part of a claim value: [A-Za-z0-9_-], 1 to 64 bytes.
bool is_valid_node_id(std::string_view id) noexcept;

}  // namespace achat::cluster
