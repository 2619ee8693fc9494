// Process-wide logging: spdlog's async logger, so no thread ever waits for the log's output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "achat/stats.h"

namespace spdlog::details {
class thread_pool;
}

namespace achat {

class DropCountingLogger;
class LogFileSink;

struct LogSettings {
  std::string level = "info";  // see is_log_level()
  std::string file;            // empty: stderr
  std::size_t queue_lines = 8192;
};

// trace, debug, info, warn, error, critical or off.
bool is_log_level(std::string_view level);

// Owns spdlog's default logger: a bounded queue of `queue_lines` entries drained by one worker
// thread that alone writes to stderr or the log file. Owned by main: create it before any
// thread that logs (its worker inherits the signal mask of the creating thread), destroy it
// after all of them. Any thread may log through spdlog's free functions while it lives.
// Promises: logging never waits for the output. When the queue is full the OLDEST queued line is
// dropped (spdlog 1.10 offers "overrun oldest" but no "discard new") and counted; the log thus
// keeps the latest lines when it cannot keep up. Lines are ISO-8601 with the UTC offset
// (2026-11-23T13:28:38.123+00:00 info ...), or, when stderr is the journal's stream
// (JOURNAL_STREAM, see systemd.exec(5)), `<N>` priorities and no timestamp of their own.
// The destructor writes every queued line before it returns.
class Log {
 public:
  // Throws std::runtime_error if the log file cannot be opened or the level is unknown.
  explicit Log(const LogSettings& settings);
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  ~Log();

  // Any thread. The log file is opened again by its name before the next line is written (what
  // logrotate expects after it renamed the file); a no-op on stderr. True if there is a file.
  bool reopen();
  // Any thread. Asks the worker to flush the output once it has written what is queued.
  void flush();
  // Any thread. Lines dropped so far because the queue was full.
  std::uint64_t lines_dropped() const;

  // While the returned guard lives, each dropped line is also added to `counter`, by the thread
  // whose log call overflowed the queue, so the counter is exact whenever it is read; drops
  // before the guard are added at once. The counter must outlive every thread that logs while
  // the guard lives. Main only.
  class DropCounting {
   public:
    DropCounting(Log& log, Stats::Counter& counter);
    DropCounting(const DropCounting&) = delete;
    DropCounting& operator=(const DropCounting&) = delete;
    ~DropCounting();

   private:
    DropCountingLogger& logger_;
  };

 private:
  std::shared_ptr<spdlog::details::thread_pool> pool_;
  std::shared_ptr<LogFileSink> file_;  // null when logging to stderr
  std::shared_ptr<DropCountingLogger> logger_;
};

}  // namespace achat
