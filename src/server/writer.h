// The body of a connection's writer thread, and the graceful close it ends with.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <span>
#include <sys/uio.h>
#include <string>

#include "achat/channel.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/fault_hooks.h"
#include "achat/socket.h"
#include "achat/stats.h"
#include "end_notice.h"
#include "transport.h"

namespace achat {

// The budget, in total, for waiting out a client's unread input after our last line.
inline constexpr std::chrono::milliseconds kLingerTime{1000};
inline constexpr std::size_t kLingerBytes = 64 * 1024;

// Why a connection whose writes made no progress for `write_stall_ms` is cut, for its one
// disconnect log line.
std::string stall_reason(unsigned write_stall_ms, std::int64_t queued);

// Half-closes `socket` and discards input until the client closes too or the linger budget is
// spent, so the client reads our last lines instead of a reset. For a socket no other thread
// reads or writes any more.
void close_gracefully(const Socket& socket);

// Everything one connection's writer owns; run by one thread. The only code that sends on the
// connection's socket, so lines never interleave. Takes everything queued in its outbox at once
// and writes it in batches of up to 64 lines, one sendmsg() each, subtracting what it wrote from
// the connection's queued bytes; once a large backlog (1 MiB) has drained, it asks for the freed
// memory to be returned to the system (release_freed_memory). A write that makes no progress
// for the stall deadline (the socket's send timeout) or fails, or an exception while writing,
// ends the connection: it records why, shuts the socket down (waking the reader) and keeps
// draining, counting what it could not deliver. When the outbox closes (reader and broker both
// let go) it closes the socket gracefully and returns. WriterDone is sent by `done`'s destructor
// when the task object is destroyed, however it ended (or if it never ran), so the broker always
// learns that the writer has finished and frees the login.
struct WriterTask {
  std::shared_ptr<Connection> connection;
  OutboxReceiver outbox;
  EndNotice<WriterDone> done;  // WriterDone{connection id}, undelivered filled in at the end
  Stats& stats;
  unsigned write_stall_ms;  // only for the reason given when a write stalls
  const FaultHooks& hooks;  // tests only; empty in production
  // Where lines go: null for TCP (sendmsg() on the socket, then close_gracefully), else the
  // transport's own sink (a WebSocket), used by this thread only.
  std::shared_ptr<LineSink> sink;

  void operator()();

 private:
  bool write(std::span<const OutboundLine> lines, std::span<iovec> chunks);
  void fail(int error);
  void give_up(std::exception_ptr error) noexcept;
};

}  // namespace achat
