// The payload of one publication from a node to another: chat lines for some of the
// destination's users, with the sender node's sequence number for that destination.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace achat::cluster {

// "<origin> <incarnation> <sequence>\n" then one or more entries "<recipients>\n<line>": node
// ids, incarnations and logins contain no space or newline, and each line is the delivery as
// clients receive it ("from alice: text\n", one newline, at its end), so it is forwarded without
// being parsed again. Lines for one node that leave the broker together share a publication.
struct Envelope {
  struct Entry {
    std::string_view recipients;  // comma-separated
    std::string_view line;
  };

  std::string_view origin;
  std::string_view incarnation;
  std::uint64_t sequence = 0;
  std::vector<Entry> entries;

  // A payload is its header, then entries appended one after another. append_header() expects an
  // empty `payload` (one reused keeps its capacity).
  static void append_header(std::string& payload, std::string_view origin, std::string_view incarnation,
                            std::uint64_t sequence);
  static void append_entry(std::string& payload, std::string_view recipients, std::string_view line);
  // Views into `payload`; nullopt if any part of it is malformed.
  static std::optional<Envelope> decode(std::string_view payload);
};

}  // namespace achat::cluster

namespace achat::cluster {

// The subject a node listens on for lines for its users: one subscription per node, made at
// start-up, because interest made later may not reach the other servers in time.
inline std::string node_subject(std::string_view node) { return "achat.node." + std::string(node); }

}  // namespace achat::cluster
