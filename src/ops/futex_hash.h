// Sizes the kernel's futex hash for this process's number of sleeping threads.
#pragma once

#include <cstddef>

namespace achat {

// Linux 6.16 and later give each process a private futex hash, sized by default from the
// number of online CPUs (16 buckets on a 2-core machine) whatever its number of threads. Every
// writer sleeps on a futex of its own, so with thousands of clients each bucket chains hundreds
// of sleepers, and every wake-up walks its chain: measured as 25% of all CPU (futex_wake) with
// 10,000 clients at 20,000 messages/s. This asks for about one bucket per sleeping thread
// (a power of two, at most 131,072). Returns the buckets the process now has, or 0 where the
// kernel has no private hash (older kernels share one system-wide hash, sized from the CPUs,
// and the call changes nothing).
std::size_t size_futex_hash(std::size_t sleepers) noexcept;

}  // namespace achat
