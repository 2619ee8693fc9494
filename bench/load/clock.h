// The one clock of the load generator: CLOCK_MONOTONIC in nanoseconds. Send timestamps in
// payloads and receive times both come from here, so latency = receive - send in one process.
#pragma once

#include <time.h>

#include <cstdint>

namespace achat::load {

using Nanos = std::int64_t;

inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

inline Nanos now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

inline double to_ms(Nanos ns) noexcept { return static_cast<double>(ns) / 1e6; }
inline double to_seconds(Nanos ns) noexcept { return static_cast<double>(ns) / 1e9; }

}  // namespace achat::load
