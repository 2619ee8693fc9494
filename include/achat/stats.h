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
  // Of those, by transport (each counted on its own, so neither ever goes down on /metrics).
  Counter tcp_connections_accepted{0};
  Counter web_connections_accepted{0};  // on the --web-listen port
  Counter connections_refused{0};     // server full, thread creation failed
  Counter refusals_closed_at_once{0}; // of those, closed without the linger: its fds were all held
  Counter logins{0};
  Counter logins_refused{0};          // invalid, already online, login timeout, login too long
  Counter messages_accepted{0};       // chat lines handed to the broker
  Counter deliveries_routed{0};       // message x recipient, queued for a writer
  Counter lines_written{0};           // lines a writer put on a socket (deliveries and notices)
  Counter lines_undeliverable{0};     // queued for a writer whose connection failed first
  Counter protocol_errors{0};         // error lines sent for malformed input (not "not online")
  Counter not_online_replies{0};      // "error: not online: ..." notices sent
  Counter slow_consumers{0};          // disconnected for exceeding the per-client outbound cap
  Counter stalled_consumers{0};       // disconnected: lines pending, no write progress in time
  Counter error_floods{0};            // disconnected for too many unread error replies
  Counter budget_cuts{0};             // disconnected to keep all queues under the global budget
  Counter log_lines_dropped{0};       // log lines dropped because the log could not keep up

  // A gauge, not a count: users logged in now. Only the broker changes it (up when it accepts a
  // login, down when that user's reader is gone), so it never goes below zero; any thread reads it.
  Counter logged_in{0};

  // Wake-ups: how much work each thread hop carries (issue: spread recipients).
  Counter writer_wakeups{0};          // times a writer found its queue empty and had to wait
  Counter broker_rounds{0};           // broker receive rounds that handled at least one event
  Counter broker_events{0};           // events handled in those rounds (average batch = / rounds)
  // Socket writes on --web-listen connections: a batch of WebSocket frames (up to 64 lines), a
  // control frame of Beast's, an HTTP response.
  Counter web_socket_writes{0};

  static void add(Counter& counter, std::uint64_t n = 1) noexcept {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  std::string summary() const;
};

}  // namespace achat
