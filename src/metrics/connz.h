// Who is online, as JSON in the style of NATS's /connz monitoring endpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "achat/connection.h"

namespace achat::metrics {

// Which slice of the list to show, by connection id order. NATS's default page is 1024.
struct ConnzPage {
  std::size_t offset = 0;
  std::size_t limit = 1024;
};

// Parses a query string such as "limit=10&offset=20": either, both or neither; other keys are
// ignored, as NATS does. nullopt if limit or offset is not a non-negative integer.
std::optional<ConnzPage> parse_connz_query(std::string_view query);

// Formats a Registry snapshot (sorted here by connection id, oldest first), `now` as the
// report's time:
//   {"now": "2024-05-01T12:00:00.000Z", "num_connections": 1, "total": 1, "offset": 0,
//    "limit": 1024, "connections": [{"cid": 7, "login": "alice",
//    "address": "127.0.0.1:50312", "start": "2024-05-01T11:59:58.120Z", "pending_bytes": 0}]}
// num_connections counts this page, total all open connections; login is "" before login.
// Times are ISO-8601 UTC with milliseconds. Pure apart from each connection's login mutex.
std::string connz_json(std::vector<std::shared_ptr<const Connection>> connections, ConnzPage page,
                       std::chrono::system_clock::time_point now);

}  // namespace achat::metrics
