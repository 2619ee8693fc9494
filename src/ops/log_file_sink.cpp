#include "log_file_sink.h"

#include <cstdio>
#include <spdlog/common.h>

namespace achat {

namespace {

std::unique_ptr<spdlog::details::file_helper> open_for_append(const std::string& path) {
  auto file = std::make_unique<spdlog::details::file_helper>();
  file->open(path, /*truncate=*/false);
  return file;
}

}  // namespace

LogFileSink::LogFileSink(const std::string& path) : path_(path), file_(open_for_append(path)) {}

void LogFileSink::sink_it_(const spdlog::details::log_msg& message) {
  reopen_if_asked();
  spdlog::memory_buf_t line;
  formatter_->format(message, line);
  file_->write(line);
  file_->flush();
}

void LogFileSink::flush_() {
  reopen_if_asked();
  file_->flush();
}

void LogFileSink::reopen_if_asked() {
  if (!reopen_.exchange(false, std::memory_order_relaxed)) return;
  try {
    file_ = open_for_append(path_);
  } catch (const spdlog::spdlog_ex& error) {
    std::fprintf(stderr, "a-chat-server: cannot reopen the log file, keeping the old one: %s\n",
                 error.what());
  }
}

}  // namespace achat
