// Limits that are each in range but cannot work together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "achat/limits.h"

namespace achat {

// The longest line a client may be sent, in bytes: a delivery "from LOGIN: TEXT\n" of the
// longest login and the longest text a line can carry. Server lines that list names (the answer
// to "/who") are cut to it, so no reply can cost more than a delivery.
std::size_t longest_delivered_line(const Limits& limits);

// What the longest line a client may be sent costs in a writer's queue (queued_cost): a
// delivery "from LOGIN: TEXT\n" of the longest login and the longest text a line can carry.
std::int64_t longest_delivery_cost(const Limits& limits);

// The first conflict among `limits`, as one line naming the options (for the command line's
// exit-2 error), or nullopt. Refused: a login limit above the line limit (a login of the
// allowed length could not be sent); a per-client cap (--max-outbound-bytes) or a server-wide
// budget (--max-queued-bytes, unless 0 = sized automatically) smaller than one longest delivery
// (every client sent such a line would be cut, though it reads).
std::optional<std::string> limit_conflict(const Limits& limits);

}  // namespace achat
