#include "achat/log.h"

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

namespace {

constexpr const char* kLoggerName = "a-chat";

spdlog::level::level_enum parse_level(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    throw std::runtime_error("unknown log level \"" + std::string(level) + "\"");
  }
  return parsed;
}

}  // namespace

bool is_log_level(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  return parsed != spdlog::level::off || level == "off";
}

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
  logger_.reset();
  pool_.reset();  // its destructor lets the worker write every queued line, then joins it
}

void Log::reopen() {
  if (file_) file_->reopen_soon();
  flush();
}

void Log::flush() { logger_->flush(); }

std::uint64_t Log::lines_dropped() const { return logger_->dropped(); }

Log::DropCounting::DropCounting(Log& log, Stats::Counter& counter) : logger_(*log.logger_) {
  logger_.count_into(&counter);
}

Log::DropCounting::~DropCounting() { logger_.count_into(nullptr); }

}  // namespace achat
