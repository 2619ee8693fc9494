// The a-chat line protocol: parsing a client's lines and formatting what peers receive.
// Pure functions over string_views; safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace achat {

// Every error line the server sends starts with this prefix; every other line it sends is a
// delivery, `from <login>: <text>`.
inline constexpr std::string_view kErrorPrefix = "error: ";
inline constexpr std::string_view kNotOnlinePrefix = "error: not online: ";
// Cluster mode: the recipients after it are on another node, and the line is larger than one
// NATS publication may be (the servers' max_payload), so it was not sent to them.
inline constexpr std::string_view kTooLongForClusterPrefix = "error: line too long for the cluster, not sent to: ";

// An error line that answers bad input, as the error-reply budget counts them: every error line
// but "not online", which answers a well-formed line and is no bigger than the names it lists.
// The broker (when it queues) and the writer (when it writes) both decide with this.
inline bool is_error_reply(std::string_view line) noexcept {
  return line.starts_with(kErrorPrefix) && !line.starts_with(kNotOnlinePrefix);
}

// The line that asks who is online, and the prefix of its one-line answer:
// `online: alice, bob` (sorted), ending in `, ... and N more` past the server's --who-max or
// past the longest line the server may send (then `online: ... and N more` if none fits).
inline constexpr std::string_view kWhoLine = "/who";
inline constexpr std::string_view kOnlinePrefix = "online: ";

// Bytes of an offending line quoted in the error that answers it.
inline constexpr std::size_t kExcerptBytes = 32;

// `"<up to kExcerptBytes of line>"`, with `"`, `\`, control characters and bytes that are not
// UTF-8 escaped (`\xNN`) and `...` after the quote's end when the line was longer; so a client
// can tell which of its lines an error answers, and nothing in the excerpt can break a terminal.
std::string quote_excerpt(std::string_view line);

std::string_view trim(std::string_view text) noexcept;
bool is_valid_utf8(std::string_view text) noexcept;

// A parsed `name1, name2: text` line. Views into the line it was parsed from.
struct ChatLine {
  std::string_view recipients;  // the raw field before the first ':'; see for_each_recipient
  std::string_view text;        // trimmed
};

// Parses one message line (already stripped of its line ending). On failure returns nullopt
// and sets `error` to the text of the error line to send back (without prefix or newline),
// which ends with the quoted excerpt of the line.
std::optional<ChatLine> parse_chat_line(std::string_view line, std::size_t max_recipients,
                                        std::string& error);

// Calls visit(name) for each non-empty trimmed name in a recipient field, in order.
template <class Visit>
void for_each_recipient(std::string_view field, Visit&& visit) {
  while (true) {
    const auto comma = field.find(',');
    const std::string_view name = trim(field.substr(0, comma));
    if (!name.empty()) visit(name);
    if (comma == std::string_view::npos) return;
    field.remove_prefix(comma + 1);
  }
}

// Checks a login line (already trimmed). Returns the reason it is refused, or nullopt if valid.
std::optional<std::string> login_problem(std::string_view login, std::size_t max_login_bytes);

// `from <login>: <text>\n`, built with one allocation.
std::string format_delivery(std::string_view from, std::string_view text);
// `error: <what>\n`
std::string format_error(std::string_view what);

}  // namespace achat
