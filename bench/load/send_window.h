// SendWindow: closed-loop flow control of one sender. A message is in flight from its send
// until every one of its K recipients has received it; the window is the number of sequence
// numbers from the oldest message still in flight up to the next one to send. Owns, per
// in-flight message, how many recipients still miss it.
// Promises: can_send() is false while `window` sequence numbers are held; a message completed
// out of order holds its place until every older message is complete too.
#pragma once

#include <cstdint>
#include <vector>

namespace achat::load {

class SendWindow {
 public:
  SendWindow(std::uint32_t window, std::uint32_t recipients)
      : missing_(window, 0), recipients_(recipients) {}

  bool can_send() const noexcept { return next_ - oldest_ < missing_.size(); }
  std::uint64_t in_flight() const noexcept { return next_ - oldest_; }

  // Takes the next sequence number. Requires can_send().
  std::uint64_t on_send() noexcept {
    missing_[next_ % missing_.size()] = recipients_;
    return next_++;
  }

  // One recipient received `seq`. False if `seq` is not in flight (a delivery nobody expected).
  bool on_delivery(std::uint64_t seq) noexcept {
    if (seq < oldest_ || seq >= next_) return false;
    std::uint32_t& missing = missing_[seq % missing_.size()];
    if (missing == 0) return false;
    --missing;
    while (oldest_ < next_ && missing_[oldest_ % missing_.size()] == 0) ++oldest_;
    return true;
  }

 private:
  std::vector<std::uint32_t> missing_;  // ring indexed by seq % window
  std::uint32_t recipients_;
  std::uint64_t oldest_ = 0;  // oldest sequence number still in flight (== next_ if none)
  std::uint64_t next_ = 0;    // next sequence number to send
};

}  // namespace achat::load
