// What a log line looks like, on a terminal or file and in systemd's journal.
#pragma once

#include <memory>
#include <spdlog/formatter.h>

namespace achat {

enum class LogStyle {
  timestamped,  // 2026-11-23T13:28:38.123+00:00 info listening on 127.0.0.1:8080
  journal,      // <6>listening on 127.0.0.1:8080 (journald adds the time and reads the priority)
};

std::unique_ptr<spdlog::formatter> make_log_formatter(LogStyle style);

// True if `journal_stream` (the JOURNAL_STREAM variable, "DEVICE:INODE") names the file that
// stderr is, as systemd.exec(5) asks: a shell started from a service inherits the variable but
// not the stream.
bool stderr_is_journal(const char* journal_stream);

}  // namespace achat
