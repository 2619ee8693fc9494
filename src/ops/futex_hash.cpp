#include "futex_hash.h"

#include <sys/prctl.h>

#include <algorithm>
#include <bit>

// From linux/prctl.h (6.16); older headers lack them.
#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#define PR_FUTEX_HASH_SET_SLOTS 1
#define PR_FUTEX_HASH_GET_SLOTS 2
#endif

namespace achat {

std::size_t size_futex_hash(std::size_t sleepers) noexcept {
  constexpr std::size_t kMinSlots = 1024;
  constexpr std::size_t kMaxSlots = 131'072;
  const std::size_t slots = std::bit_ceil(std::clamp(sleepers, kMinSlots, kMaxSlots));
  ::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, slots, 0, 0);
  const int now = ::prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_GET_SLOTS, 0, 0, 0);
  return now > 0 ? static_cast<std::size_t>(now) : 0;
}

}  // namespace achat
