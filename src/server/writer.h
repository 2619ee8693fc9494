// The body of a connection's writer thread, and the graceful close it ends with.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "achat/channel.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/socket.h"
#include "achat/stats.h"
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

// Everything one writer thread owns. The only code that sends on the connection's socket, so
// lines never interleave. Drains its channel in batches and writes each batch with one
// sendmsg(), subtracting what it wrote from the connection's queued bytes. A write that makes
// no progress for the stall deadline (the socket's send timeout) or fails ends the connection:
// it records why, shuts the socket down (waking the reader) and keeps draining, counting what it
// could not deliver. When the channel closes (reader and broker both let go) it closes the
// socket gracefully, reports WriterDone to the broker, and returns.
struct WriterTask {
  std::shared_ptr<Connection> connection;
  Receiver<OutboundLine> outbox;
  Sender<WriterDone> reaper;
  Stats& stats;
  unsigned write_stall_ms;  // only for the reason given when a write stalls
  // Where lines go: null for TCP (sendmsg() on the socket, then close_gracefully), else the
  // transport's own sink (a WebSocket), used by this thread only.
  std::shared_ptr<LineSink> sink;

  void operator()();

 private:
  void fail(int error);
};

}  // namespace achat
