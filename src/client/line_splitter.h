// LineSplitter: reassembles '\n'-terminated lines from a byte stream that arrives in chunks.
//
// Owns: the bytes of the unfinished last line.
// Threads: one thread at a time (each session keeps its own).
// Promise: every byte fed comes out exactly once, in order, in a line without its '\n';
// take_rest() hands back an unterminated tail at end of stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace achat::client {

class LineSplitter {
 public:
  void feed(std::string_view bytes) { pending_.append(bytes); }

  // The next complete line (without '\n'), or nullopt until more bytes arrive.
  std::optional<std::string> next_line() {
    const std::size_t newline = pending_.find('\n', scanned_);
    if (newline == std::string::npos) {
      scanned_ = pending_.size();
      return std::nullopt;
    }
    std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    scanned_ = 0;
    return line;
  }

  // The unterminated tail (possibly empty); the splitter is empty afterwards.
  std::string take_rest() {
    scanned_ = 0;
    return std::exchange(pending_, std::string());
  }

 private:
  std::string pending_;
  std::size_t scanned_ = 0;  // pending_[0, scanned_) is known to hold no '\n'
};

}  // namespace achat::client
