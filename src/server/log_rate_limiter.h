// Keeps a log that reports per-line events (bad input, say) from growing with an attacker's rate.
#pragma once

#include <chrono>
#include <cstdint>

namespace achat {

// Used by one thread. Allows up to `per_second` lines in each one-second window; the lines it
// refuses are counted, and the first line allowed afterwards can report how many were held back.
class LogRateLimiter {
 public:
  explicit LogRateLimiter(std::uint32_t per_second) : per_second_(per_second) {}

  // True if a line may be logged now. `suppressed` is then the number refused since the last
  // line allowed (to mention in this one), and is reset.
  bool allow(std::uint64_t& suppressed) {
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      in_window_ = 0;
    }
    if (in_window_ == per_second_) {
      ++suppressed_;
      return false;
    }
    ++in_window_;
    suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }

 private:
  const std::uint32_t per_second_;
  std::chrono::steady_clock::time_point window_start_{};
  std::uint32_t in_window_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace achat
