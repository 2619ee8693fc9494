#include "log_format.h"

#include <spdlog/pattern_formatter.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

namespace achat {

namespace {

// syslog(3) priorities, which journald reads from a leading "<N>".
char journal_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return '2';
    case spdlog::level::err: return '3';
    case spdlog::level::warn: return '4';
    case spdlog::level::info: return '6';
    default: return '7';  // debug, trace
  }
}

// The pattern flag %* (stateless, so any thread may use a clone): "<N>" for the line's level.
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& message, const std::tm&,
              spdlog::memory_buf_t& out) override {
    out.push_back('<');
    out.push_back(journal_priority(message.level));
    out.push_back('>');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter(LogStyle style) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (style == LogStyle::journal) {
    formatter->add_flag<JournalPriority>('*').set_pattern("%*%v");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  return formatter;
}

bool stderr_is_journal(const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  std::uintmax_t device = 0;
  std::uintmax_t inode = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX, &device, &inode) != 2) return false;
  struct stat error_stream {};
  return ::fstat(STDERR_FILENO, &error_stream) == 0 && error_stream.st_dev == device &&
         error_stream.st_ino == inode;
}

}  // namespace achat
