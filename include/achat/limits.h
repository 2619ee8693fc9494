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

  // Most names one "online:" reply (the answer to "/who") lists before "... and N more": a
  // reply stays a line a person can read (and ~10 KiB), however many are online.
  std::size_t who_max = 1000;

  // Hard cap on what is queued for one client and not yet written (queued_cost: bytes plus a
  // per-line overhead). Past it the client is a slow consumer and is cut. Like NATS's max
  // pending (64 MiB): far above any burst a reading client can fall behind by, so only a
  // client that has stopped reading reaches it, and the stall deadline usually cuts that one first.
  std::size_t max_outbound_bytes = 64 * 1024 * 1024;

  // Budget for what is queued to all clients together. When a new line would exceed it, the
  // client with the largest backlog is cut first. 0 = a quarter of physical memory, at most
  // 4 GiB (resolved at start-up by fit_to_process_limits).
  std::size_t max_queued_bytes = 0;

  // Error replies to bad input a client may leave unread (their queued_cost, handed to its writer
  // in an earlier broker round and not yet written). A 2-byte bad line earns a ~60-byte reply, so
  // a client that sends garbage and never reads would otherwise grow its backlog 30 times
  // faster than it sends; past this it gets one last error line and is cut. "not online"
  // notices answer well-formed lines, are no bigger than the names they list, and count only
  // against max_outbound_bytes.
  std::size_t max_error_bytes = 64 * 1024;

  // Events one reader may have handed to the broker that the broker has not yet handled. The
  // reader stops reading its socket until the broker catches up, so the broker's inbox holds at
  // most this much per client (plus one batch) however fast clients send.
  std::size_t max_unrouted_bytes = 256 * 1024;

  // Connections served at once; 0 = sized when the Server is constructed, from the process's
  // fd, thread and memory-map limits (fit_to_process_limits, which also raises the fd limit).
  // Each client costs two threads and one fd.
  std::size_t max_clients = 0;

  // How long a new connection may take, from accept, to send its whole login line.
  unsigned login_timeout_ms = 10'000;

  // A client with lines pending whose socket accepts not one byte of a send for this long is
  // cut (the socket's SO_SNDTIMEO, applied to each sendmsg): it is not reading. A client that
  // reads slowly is cut too if its receive window stays shut for this long (TCP reopens it only
  // once a useful amount of space is free), so "slow" here means slower than that.
  unsigned write_stall_ms = 10'000;

  // A WebSocket client that sends nothing (a pong to our ping included) for half this long is
  // pinged, and one silent for this long is cut. TCP clients have keepalive instead.
  unsigned web_idle_timeout_ms = 60'000;

  // TCP keepalive on every connection, so a peer that vanished without a FIN or reset frees its
  // threads and slot: first probe after this much idle time, then every keepalive_interval_s,
  // cut after keepalive_probes unanswered probes (defaults: dead peers go within 2 minutes).
  unsigned keepalive_idle_s = 60;
  unsigned keepalive_interval_s = 10;
  unsigned keepalive_probes = 6;

  // On shutdown, how long writers may take to deliver what was already routed before the
  // remaining connections are cut.
  unsigned drain_timeout_ms = 3'000;

  // Stack reserved for each reader and writer thread; see README "Thread stacks" for the
  // measurement behind it. glibc keeps static TLS on it, so far smaller sizes fail to start.
  std::size_t thread_stack_bytes = 64 * 1024;

  // Reader and writer threads whose connection ended that may park for the next connection
  // instead of exiting (each is retired after Crew::kParkedIdle unused): a reconnect storm then
  // reuses threads instead of creating two per login. Threads are created only when none is
  // parked, so the cache never raises the peak thread count above two per client; it keeps
  // that peak's threads (their stacks' touched pages) for up to a minute. Default: the
  // threads of 10,000 clients.
  std::size_t thread_cache = 20'000;

  // Threads started with the server, parked for the first connections, and kept parked however
  // long they wait (the cache's idle retirement spares this many): logins on a freshly started
  // server then create no threads either. At most thread_cache, and at most two per client
  // (max_clients), so the peak thread count stays two per client. Costs start-up time and each
  // parked thread's touched stack (bench/RESULTS.md). Default 0: none.
  std::size_t thread_prestart = 0;

  // Bytes a reader asks the kernel for per recv() once it is busy (it starts with 256).
  std::size_t read_chunk_bytes = 4 * 1024;

  // Tuning, not a limit: how long the broker may poll an empty inbox before it sleeps, when
  // its recent waits for events were shorter than this (ChannelOptions::consumer_spin). Every
  // message passes through the broker; polling lets it catch the next event without a futex
  // wake-up under heavy traffic, and the adaptive rule keeps it from burning CPU under light
  // traffic. 0 sleeps at once. See bench/RESULTS.md for the measurement behind the default.
  unsigned broker_spin_us = 20;
};

}  // namespace achat
