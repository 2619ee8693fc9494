// What a connection's reader reads lines from and its writer writes lines to, when that is not
// the plain TCP byte stream (a WebSocket, see src/web/). The TCP path uses LineReader and the
// socket directly; these interfaces let ReaderTask and WriterTask serve other transports
// unchanged.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "achat/connection.h"

namespace achat {

// A source of protocol lines, used by one reader thread only. Promises: a returned line holds no
// line terminator; a line over the limit is never returned whole.
class LineSource {
 public:
  enum class Status {
    line,           // `line` is the next line
    end_of_stream,  // the client closed cleanly
    truncated,      // the client closed in the middle of a line
    too_long,       // a line over the limit; the connection ends after its reply
    timed_out,      // the deadline passed first
    failed,         // see failure()
    refused,        // `line` is a message that may not be a line (it holds CR, LF or NUL);
                    // answered with an error line, reading goes on
  };
  virtual ~LineSource() = default;

  // Blocks for the next line. On Status::line or refused, `line` views memory valid until the
  // next call.
  virtual Status next(std::string_view& line) = 0;
  // A point in time by which next() must have its line; nullopt (the default) waits forever.
  virtual void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) = 0;
  // True if next() can return a line without waiting for the client.
  virtual bool has_buffered_line() = 0;
  // Why reading failed, for the disconnect log line (after Status::failed).
  virtual std::string failure() const = 0;
};

// Where a writer thread sends lines, used by that writer thread only.
class LineSink {
 public:
  virtual ~LineSink() = default;
  // Delivers `lines` (each ending in "\n") in order, blocking until written. False with errno
  // set (EAGAIN when no progress was made within the stall deadline) if they were not; the
  // writer then ends the connection.
  virtual bool send(std::span<const OutboundLine> lines) = 0;
  // The writer is done: after a healthy run, closes gracefully (the client reads our last lines
  // first). Called exactly once, last; after it the sink is never used again.
  virtual void finish(bool healthy) = 0;
};

}  // namespace achat
