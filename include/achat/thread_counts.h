// What the server's reader and writer threads are doing, for the stats line and /metrics.
#pragma once

#include <cstddef>
#include <cstdint>

namespace achat {

// A snapshot, taken under the Crew's mutex: running and parked agree with each other.
struct ThreadCounts {
  std::size_t running = 0;    // threads running a body (a connection's reader or writer)
  std::size_t parked = 0;     // threads waiting in the thread cache for their next body
  std::uint64_t created = 0;  // threads started
  std::uint64_t reused = 0;   // bodies handed to a parked thread instead of a new one
};

}  // namespace achat
