// Server-wide counters. Any thread increments them (relaxed atomics: each is an independent
// count, read only for reporting); one instance lives as long as the Server.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace achat {

struct Stats {
  using Counter = std::atomic<std::uint64_t>;

  Counter connections_accepted{0};
  Counter connections_refused{0};     // server full, thread creation failed
  Counter logins{0};
  Counter logins_refused{0};          // invalid login, already online, timeout
  Counter messages_accepted{0};       // chat lines handed to the broker
  Counter deliveries_routed{0};       // message x recipient, queued for a writer
  Counter lines_written{0};           // lines a writer put on a socket (deliveries and notices)
  Counter lines_undeliverable{0};     // queued for a writer whose connection failed first
  Counter protocol_errors{0};         // error lines sent for bad input
  Counter slow_consumers{0};          // disconnected for exceeding the outbound byte cap

  static void add(Counter& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  std::string summary() const;
};

}  // namespace achat
