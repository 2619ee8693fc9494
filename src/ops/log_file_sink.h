// The log file behind --log-file.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <spdlog/details/file_helper.h>
#include <spdlog/sinks/base_sink.h>
#include <string>

namespace achat {

// Owns the open log file (appended to, flushed after every line). Written only by the log's
// worker thread. reopen_soon() may be called from any thread: before the next line (or flush)
// the file is opened again by its name, so after logrotate renamed it the log continues in a
// new file. If that fails, the sink keeps writing to the file it has and says so on stderr.
class LogFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LogFileSink(const std::string& path);  // throws spdlog::spdlog_ex
  void reopen_soon() { reopen_.store(true, std::memory_order_relaxed); }

 private:
  void sink_it_(const spdlog::details::log_msg& message) override;
  void flush_() override;
  void reopen_if_asked();

  const std::string path_;
  std::atomic<bool> reopen_{false};
  std::unique_ptr<spdlog::details::file_helper> file_;
};

}  // namespace achat
