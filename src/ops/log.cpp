#include "log.h"

#include <cstdlib>
#include <spdlog/async_logger.h>
#include <spdlog/details/thread_pool.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string>

#include "drop_counting_logger.h"
#include "log_file_sink.h"
#include "log_format.h"

namespace achat {

bool is_log_level(std::string_view level) {
  // from_str() answers "off" for any name it does not know.
  return spdlog::level::from_str(std::string(level)) != spdlog::level::off || level == "off";
}

namespace {

constexpr const char* kLoggerName = "a-chat";

spdlog::level::level_enum parse_level(std::string_view level) {
  if (!is_log_level(level)) throw std::runtime_error("unknown log level \"" + std::string(level) + "\"");
  return spdlog::level::from_str(std::string(level));
}

}  // namespace

Log::Log(const LogSettings& settings)
    : pool_(std::make_shared<spdlog::details::thread_pool>(settings.queue_lines, 1)) {
  const auto level = parse_level(settings.level);
  spdlog::sink_ptr sink;
  LogStyle style = LogStyle::timestamped;
  if (settings.file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    if (stderr_is_journal(std::getenv("JOURNAL_STREAM"))) style = LogStyle::journal;
  } else {
    try {
      file_ = std::make_shared<LogFileSink>(settings.file);
    } catch (const spdlog::spdlog_ex& error) {
      throw std::runtime_error(error.what());
    }
    sink = file_;
  }
  sink->set_formatter(make_log_formatter(style));
  auto queue = std::make_shared<spdlog::async_logger>(
      kLoggerName, std::move(sink), pool_, spdlog::async_overflow_policy::overrun_oldest);
  queue->set_level(spdlog::level::trace);  // the level is checked once, by logger_
  logger_ = std::make_shared<DropCountingLogger>(std::move(queue), pool_);
  logger_->set_level(level);
  spdlog::set_default_logger(logger_);
}

Log::~Log() {
  // Anything logged from here on goes straight to stderr.
  auto fallback = std::make_shared<spdlog::logger>(
      kLoggerName, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  fallback->set_formatter(make_log_formatter(LogStyle::timestamped));
  spdlog::set_default_logger(std::move(fallback));
  // The pool's destructor lets the worker write every queued line, then joins it; only then is
  // the logger (with its sink) released, so it is never destroyed under the worker's feet. (The
  // worker's own reference counting happens inside libspdlog, which TSan cannot see.)
  pool_.reset();
  logger_.reset();
}

bool Log::reopen() {
  if (file_) file_->reopen_soon();
  flush();
  return file_ != nullptr;
}

void Log::flush() { logger_->flush(); }

std::uint64_t Log::lines_dropped() const { return logger_->dropped(); }

Log::DropCounting::DropCounting(Log& log, Stats::Counter& counter) : logger_(*log.logger_) {
  logger_.count_into(&counter);
}

Log::DropCounting::~DropCounting() { logger_.count_into(nullptr); }

}  // namespace achat
