// The payload of one publication from a node to another: one chat line for some of the
// destination's users, with the sender node's sequence number for that destination.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace achat::cluster {

// "<origin> <incarnation> <sequence>\n<recipients>\n<line>": node ids, incarnations and
// logins contain no space or newline, and the line is the delivery as clients receive it
// ("from alice: text\n"), so it is forwarded without being parsed again.
struct Envelope {
  std::string_view origin;
  std::string_view incarnation;
  std::uint64_t sequence = 0;
  std::string_view recipients;  // comma-separated
  std::string_view line;

  std::string encode() const;
  // Views into `payload`; nullopt if it is malformed.
  static std::optional<Envelope> decode(std::string_view payload);
};

}  // namespace achat::cluster

namespace achat::cluster {

// The subject a node listens on for lines for its users: one subscription per node, made at
// start-up, because interest made later may not reach the other servers in time.
inline std::string node_subject(std::string_view node) { return "achat.node." + std::string(node); }

}  // namespace achat::cluster
