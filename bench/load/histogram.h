// LatencyHistogram: fixed-size log-linear histogram of non-negative nanosecond values (the
// HdrHistogram layout: 128 linear sub-buckets per power of two). Promises: memory independent
// of the sample count; a reported percentile is within 1/128 (< 0.8%) of the true sample value.
#pragma once

#include <array>
#include <cstdint>

#include "clock.h"

namespace achat::load {

class LatencyHistogram {
 public:
  void record(Nanos value) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  Nanos max() const noexcept { return max_; }
  // The value at quantile q in [0, 1] (0 if empty): the middle of the bucket holding it.
  Nanos quantile(double q) const noexcept;

 private:
  static constexpr int kSubBits = 8;                            // 256 buckets below 2^8
  static constexpr std::uint64_t kHalf = 1u << (kSubBits - 1);  // sub-buckets per octave: 128
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * kHalf + kHalf;

  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t midpoint_of(std::size_t bucket) noexcept;

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  Nanos max_ = 0;
};

}  // namespace achat::load
