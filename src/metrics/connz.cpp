#include "connz.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <fmt/chrono.h>

namespace achat::metrics {

namespace {

bool parse_count(std::string_view text, std::size_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// Logins are valid UTF-8 without control characters, but may hold quotes and backslashes.
std::string json_string(std::string_view text) {
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      quoted += escaped;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

std::string iso8601_utc(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto since_epoch = duration_cast<milliseconds>(when.time_since_epoch());
  const std::time_t seconds = duration_cast<std::chrono::seconds>(since_epoch).count();
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, since_epoch.count() % 1000);
}

}  // namespace

std::optional<ConnzPage> parse_connz_query(std::string_view query) {
  ConnzPage page;
  while (!query.empty()) {
    const auto ampersand = query.find('&');
    const std::string_view pair = query.substr(0, ampersand);
    query = ampersand == std::string_view::npos ? std::string_view() : query.substr(ampersand + 1);
    const auto equals = pair.find('=');
    const std::string_view key = pair.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? "" : pair.substr(equals + 1);
    if (key == "limit" && !parse_count(value, page.limit)) return std::nullopt;
    if (key == "offset" && !parse_count(value, page.offset)) return std::nullopt;
  }
  return page;
}

std::string connz_json(std::vector<std::shared_ptr<const Connection>> connections, ConnzPage page,
                       std::chrono::system_clock::time_point now) {
  std::sort(connections.begin(), connections.end(),
            [](const auto& a, const auto& b) { return a->id() < b->id(); });
  const std::size_t first = std::min(page.offset, connections.size());
  const std::size_t shown = std::min(page.limit, connections.size() - first);
  std::string json = "{\"now\": " + json_string(iso8601_utc(now)) +
                     ", \"num_connections\": " + std::to_string(shown) +
                     ", \"total\": " + std::to_string(connections.size()) +
                     ", \"offset\": " + std::to_string(page.offset) +
                     ", \"limit\": " + std::to_string(page.limit) + ", \"connections\": [";
  for (std::size_t i = first; i < first + shown; ++i) {
    const Connection& connection = *connections[i];
    json += i == first ? "\n  " : ",\n  ";
    json += "{\"cid\": " + std::to_string(connection.id()) +
            ", \"login\": " + json_string(connection.login()) +
            ", \"address\": " + json_string(connection.address()) +
            ", \"transport\": " + (connection.transport() == Transport::web ? "\"ws\"" : "\"tcp\"") +
            ", \"start\": " + json_string(iso8601_utc(connection.connected_at())) +
            ", \"pending_bytes\": " + std::to_string(connection.queued()) + "}";
  }
  return json + (shown > 0 ? "\n]}\n" : "]}\n");
}

}  // namespace achat::metrics
