// How a login's claim is written in the claims bucket.
#pragma once

#include <cstdint>
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

// Which node holds a login, and which run of that node ("node incarnation"), so a node
// restarted under the same id can tell its previous run's claims from its own. Also the start of
// a heartbeat (presence.h). parse() reads the first two space-separated fields and ignores the
// rest, so it reads a claim value of any version (ClaimValue below).
struct ClaimOwner {
  std::string node;
  std::string incarnation;

  std::string to_value() const;  // "<node> <run>"
  static std::optional<ClaimOwner> parse(std::string_view value);
};

// A claim's stored value, one versioned record: "<node> <run> <version> <nonce> <epoch>" (version
// 2). The nonce is random per claim (per login), so a node that lost a create's acknowledgement
// can tell its own record from any other's, even another login of the same name on the same
// node, when it reads the key's records back (claims_bucket.h). The epoch is reserved for the
// bucket's re-creation and written 0 for now. Version 1, written by a-chat before the nonce,
// is "<node> <run>": it still parses (empty nonce, epoch 0). Parsing is tolerant for later
// versions: a missing or unreadable epoch reads as 0 and fields after it are ignored. Every
// write of one claim (its create, rewrites, a re-take after expiry) stores the same value, so
// a holder's rewrites are recognised by comparing values (claim_arbiter.h, the watcher). After
// the epoch, a claim written since "/who" became cluster-wide holds the login as its holder typed
// it (`Bob`; it has no spaces, check_login refuses them), so other nodes can list it: nodes of
// earlier versions ignore it, as they ignore any later field. A plain value.
struct ClaimValue {
  static constexpr unsigned kVersion = 2;

  ClaimOwner owner;
  std::string nonce;        // 16 hex digits; empty in a version-1 value
  std::uint64_t epoch = 0;  // reserved (bucket re-creation): 0
  unsigned version = kVersion;
  std::string typed = {};  // the login as typed; empty when written by an earlier version

  std::string to_value() const;
  static std::optional<ClaimValue> parse(std::string_view value);
};

// 64 random bits in 16 hex digits: a claim's nonce. Any thread.
std::string random_nonce();

// A node id is one NATS subject token and part of a claim value: [A-Za-z0-9_-], 1 to 64 bytes.
bool is_valid_node_id(std::string_view id) noexcept;

}  // namespace achat::cluster
