#include "histogram.h"

#include <bit>
#include <cmath>

namespace achat::load {

// Values below 2^kSubBits get a bucket each. Above, a value with its top bit at position b is
// shifted right by s = b - (kSubBits - 1), leaving a mantissa in [kHalf, 2 kHalf); bucket
// s * kHalf + mantissa. Octave s therefore covers buckets [(s+1) kHalf, (s+2) kHalf).
std::size_t LatencyHistogram::bucket_of(std::uint64_t value) noexcept {
  if (value < 2 * kHalf) return static_cast<std::size_t>(value);
  const int top_bit = std::bit_width(value) - 1;
  const int shift = top_bit - (kSubBits - 1);
  return static_cast<std::size_t>(shift) * kHalf + static_cast<std::size_t>(value >> shift);
}

std::uint64_t LatencyHistogram::midpoint_of(std::size_t bucket) noexcept {
  if (bucket < 2 * kHalf) return bucket;
  const std::size_t shift = bucket / kHalf - 1;
  const std::uint64_t mantissa = bucket - shift * kHalf;
  const std::uint64_t low = mantissa << shift;
  return low + (std::uint64_t{1} << shift) / 2;
}

void LatencyHistogram::record(Nanos value) noexcept {
  const auto clamped = static_cast<std::uint64_t>(value < 0 ? 0 : value);
  ++counts_[bucket_of(clamped)];
  ++count_;
  if (value > max_) max_ = value;
}

Nanos LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank < 1) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t bucket = 0; bucket < kBuckets; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) {
      const auto value = static_cast<Nanos>(midpoint_of(bucket));
      return value < max_ ? value : max_;
    }
  }
  return max_;
}

}  // namespace achat::load
