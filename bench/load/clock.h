// The one clock of the load generator: CLOCK_MONOTONIC in nanoseconds. Send timestamps in
// payloads and receive times both come from here, so latency = receive - send in one process.
// Also the generator's own CPU time, to show what checking each delivery costs.
#pragma once

#include <time.h>

#include <cmath>
#include <cstdint>

namespace achat::load {

using Nanos = std::int64_t;

inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

inline Nanos read_clock(clockid_t clock) noexcept {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<Nanos>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

inline Nanos now_ns() noexcept { return read_clock(CLOCK_MONOTONIC); }

// CPU time this process (every thread) has used.
inline Nanos own_cpu_ns() noexcept { return read_clock(CLOCK_PROCESS_CPUTIME_ID); }

// A duration given in seconds (options), rounded to the nanosecond.
inline Nanos seconds_to_ns(double seconds) noexcept {
  return static_cast<Nanos>(std::llround(seconds * static_cast<double>(kNanosPerSecond)));
}

inline double to_ms(Nanos ns) noexcept { return static_cast<double>(ns) / 1e6; }
inline double to_seconds(Nanos ns) noexcept { return static_cast<double>(ns) / 1e9; }

}  // namespace achat::load
