#include "limit_conflicts.h"

#include "achat/connection.h"

namespace achat {

std::size_t longest_delivered_line(const Limits& limits) {
  // "from " + login + ": " + text + "\n", where the text is at most a whole line (a bound: the
  // recipient list and its ": " take some of it).
  constexpr std::size_t kFraming = 5 + 2 + 1;
  return limits.max_line_bytes + limits.max_login_bytes + kFraming;
}

std::int64_t longest_delivery_cost(const Limits& limits) {
  return static_cast<std::int64_t>(longest_delivered_line(limits)) + kQueuedLineOverhead;
}

std::optional<std::string> limit_conflict(const Limits& limits) {
  if (limits.max_login_bytes > limits.max_line_bytes) {
    return "--max-login-bytes " + std::to_string(limits.max_login_bytes) +
           " is more than --max-line-bytes " + std::to_string(limits.max_line_bytes) +
           ": a login that long could never be sent";
  }
  if (limits.thread_prestart > limits.thread_cache) {
    return "--thread-prestart " + std::to_string(limits.thread_prestart) + " is more than --thread-cache " +
           std::to_string(limits.thread_cache) + ": the threads beyond the cache could not park";
  }
  const std::int64_t longest = longest_delivery_cost(limits);
  auto too_small = [&](const char* option, std::size_t value, const char* effect) {
    return std::string(option) + " " + std::to_string(value) +
           " is smaller than one longest line (--max-line-bytes " +
           std::to_string(limits.max_line_bytes) + " from a --max-login-bytes " +
           std::to_string(limits.max_login_bytes) + " login costs " + std::to_string(longest) +
           " bytes queued): " + effect + "; set it to at least " + std::to_string(longest) +
           " or lower --max-line-bytes";
  };
  if (static_cast<std::int64_t>(limits.max_outbound_bytes) < longest) {
    return too_small("--max-outbound-bytes", limits.max_outbound_bytes,
                     "a client sent such a line would be cut though it reads");
  }
  if (limits.max_queued_bytes != 0 && static_cast<std::int64_t>(limits.max_queued_bytes) < longest) {
    return too_small("--max-queued-bytes", limits.max_queued_bytes,
                     "such a line would cut a client even with every queue empty");
  }
  return std::nullopt;
}

}  // namespace achat
