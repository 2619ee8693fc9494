#include "log_file_sink.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>
#include <spdlog/common.h>

namespace achat {

namespace {

// Opened by us first, so that a missing directory is an error rather than created (spdlog
// would create it) and the message names the option.
std::unique_ptr<spdlog::details::file_helper> open_for_append(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot open the log file " + path + " (--log-file): " +
                             std::strerror(errno));
  }
  ::close(fd);
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
  } catch (const std::exception& error) {
    std::fprintf(stderr, "a-chat-server: cannot reopen the log file, keeping the old one: %s\n",
                 error.what());
  }
}

}  // namespace achat
