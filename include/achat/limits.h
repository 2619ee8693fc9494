// Every limit the server enforces, with its default and the reason for it. One instance is built
// from the command line at start-up and read (never written) by every thread afterwards.
#pragma once

#include <cstddef>

namespace achat {

struct Limits {
  // Longest line a client may send, login included. Bounds the reader's buffer: a client sending
  // 1 GiB without a newline costs no more than this. 64 KiB is far above chat use and below
  // NATS's 1 MiB payload cap.
  std::size_t max_line_bytes = 64 * 1024;

  // Longest login. Logins are printed in every delivered line; IRC caps nicks far shorter.
  std::size_t max_login_bytes = 32;

  // Most names in one recipient list: one line may not fan out to the whole server.
  std::size_t max_recipients = 100;

  // Outbound bytes routed to one client but not yet written to its socket. Past this the client
  // is a slow consumer and is disconnected (NATS: 64 MiB; Redis pub/sub: 32 MiB; a chat line is
  // far smaller, so 4 MiB is many thousands of lines of headroom).
  std::size_t max_outbound_bytes = 4 * 1024 * 1024;

  // Connections served at once; 0 = sized at start-up from the process's fd and thread limits.
  // Each client costs two threads and one fd.
  std::size_t max_clients = 0;

  // How long a new connection may take to send its login.
  unsigned login_timeout_ms = 10'000;

  // How long one blocked write may wait for a client to read before it is cut. Stops a client
  // that never reads from pinning its writer thread forever, even below the byte cap.
  unsigned send_timeout_ms = 30'000;

  // On shutdown, how long writers may take to deliver what was already routed before the
  // remaining connections are cut.
  unsigned drain_timeout_ms = 3'000;

  // Stack reserved for each reader and writer thread; see README "Thread stacks" for the
  // measurement behind it. glibc keeps static TLS on it, so far smaller sizes fail to start.
  std::size_t thread_stack_bytes = 64 * 1024;

  // Bytes a reader asks the kernel for per recv() once it is busy (it starts with 256).
  std::size_t read_chunk_bytes = 4 * 1024;

  // Tuning, not a limit: how many times the broker polls an empty inbox (each poll a CPU pause,
  // ~13 ns here) before sleeping. Every message passes through the broker; polling lets it catch
  // the next event without a futex wake-up, at the cost of CPU while traffic flows. 0 sleeps at
  // once. See bench/RESULTS.md for the measurement behind the default.
  unsigned broker_spins = 1'000;
};

}  // namespace achat
