#include "line_reader.h"

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace achat {

namespace {

// Enough for a login and a chat line or two; heavier senders get the full chunk.
constexpr std::size_t kFirstChunkBytes = 256;

}  // namespace

LineReader::LineReader(const Socket& socket, std::size_t max_line_bytes, std::size_t chunk_bytes)
    : socket_(socket),
      max_line_bytes_(max_line_bytes),
      chunk_size_(std::min(chunk_bytes, kFirstChunkBytes)),
      full_chunk_size_(chunk_bytes) {
  chunk_ = std::make_unique_for_overwrite<char[]>(chunk_size_);
}

std::string LineReader::failure() const {
  return error_ == ECONNRESET ? "reset" : std::strerror(error_);
}

LineReader::Status LineReader::next(std::string_view& line) {
  // The previous line, if it spanned chunks, lived in partial_ and has been consumed by now.
  if (partial_holds_line_) {
    partial_.clear();
    partial_holds_line_ = false;
  }
  while (true) {
    const char* begin = chunk_.get() + chunk_begin_;
    const std::size_t available = chunk_end_ - chunk_begin_;
    // has_buffered_line() may just have found it: the reader asks before every line.
    const void* newline = known_newline_ ? known_newline_ : std::memchr(begin, '\n', available);
    known_newline_ = nullptr;
    if (newline) {
      const auto length = static_cast<std::size_t>(static_cast<const char*>(newline) - begin);
      chunk_begin_ += length + 1;
      if (partial_.empty()) {
        line = std::string_view(begin, length);
      } else {
        partial_.append(begin, length);
        partial_holds_line_ = true;
        line = partial_;
      }
      return finish_line(line);
    }
    if (partial_.size() + available > max_line_bytes_) return Status::too_long;
    partial_.append(begin, available);
    chunk_begin_ = chunk_end_ = 0;
    if (filled_last_time_ && chunk_size_ < full_chunk_size_) {
      chunk_size_ = full_chunk_size_;
      chunk_ = std::make_unique_for_overwrite<char[]>(chunk_size_);
    }
    const long received = receive();
    if (received == 0) return partial_.empty() ? Status::end_of_stream : Status::truncated;
    if (received < 0) {
      error_ = errno;
      return error_ == EAGAIN || error_ == EWOULDBLOCK ? Status::timed_out : Status::failed;
    }
    chunk_end_ = static_cast<std::size_t>(received);
    filled_last_time_ = chunk_end_ == chunk_size_;
  }
}

long LineReader::receive() {
  if (deadline_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !socket_.wait_readable(static_cast<int>(left.count()))) {
      errno = EAGAIN;
      return -1;
    }
  }
  return socket_.receive_some(std::span<char>(chunk_.get(), chunk_size_));
}

bool LineReader::has_buffered_line() noexcept {
  known_newline_ = std::memchr(chunk_.get() + chunk_begin_, '\n', chunk_end_ - chunk_begin_);
  return known_newline_ != nullptr;
}

LineReader::Status LineReader::finish_line(std::string_view& line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line_bytes_) return Status::too_long;
  return Status::line;
}

}  // namespace achat
