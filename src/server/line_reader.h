// Splits a socket's byte stream into lines, never holding more than one line's limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "achat/socket.h"
#include "transport.h"

namespace achat {

// Owned and used by one reader thread. Reads with blocking recv() calls on a socket it does not
// own. Promises: a returned line excludes its "\n" and one trailing "\r"; a line longer than the
// limit is reported as too_long without being buffered past the limit; bytes after the last
// "\n" at end of stream are reported as truncated, never as a line.
class LineReader final : public LineSource {
 public:
  using Status = LineSource::Status;  // never refused: a line cannot hold its terminator

  LineReader(const Socket& socket, std::size_t max_line_bytes, std::size_t chunk_bytes);

  // Blocks for the next line. On Status::line, `line` views memory valid until the next call.
  // Status::timed_out if a deadline is set and passes first.
  Status next(std::string_view& line) override;

  // A point in time by which next() must have its line, however the bytes trickle in; nullopt
  // (the default) waits forever.
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) override {
    deadline_ = deadline;
  }

  // The errno of the recv() behind the last Status::failed (kept, since logging may change errno).
  int error() const noexcept { return error_; }

  // True if next() can return a line without waiting for the socket. The newline it finds is
  // remembered, so the next() that follows does not scan for it again.
  bool has_buffered_line() noexcept override;
  std::string failure() const override;  // "reset" or strerror(error())

 private:
  Status finish_line(std::string_view& line);
  long receive();  // recv() into the chunk, after waiting no later than the deadline

  const Socket& socket_;
  std::size_t max_line_bytes_;
  // Starts small (an idle or chatty client needs little) and grows to the configured chunk size
  // the first time a recv() fills it. Not zero-filled: only what recv() writes is touched.
  std::unique_ptr<char[]> chunk_;
  std::size_t chunk_size_;
  std::size_t full_chunk_size_;
  bool filled_last_time_ = false;
  const void* known_newline_ = nullptr;  // set by has_buffered_line(), used by the next next()
  int error_ = 0;
  std::size_t chunk_begin_ = 0;
  std::size_t chunk_end_ = 0;
  std::string partial_;  // start of a line that spans chunks
  bool partial_holds_line_ = false;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

}  // namespace achat
