#include "freed_memory.h"

#include <malloc.h>

#include <atomic>
#include <mutex>

namespace achat {

namespace {

std::atomic<bool> requested{false};
std::mutex trimming;

}  // namespace

void release_freed_memory() noexcept {
  requested.store(true, std::memory_order_release);
  // The holder of `trimming` re-checks `requested` after letting go, so a request that finds
  // it held is never lost.
  while (requested.load(std::memory_order_acquire)) {
    std::unique_lock lock(trimming, std::try_to_lock);
    if (!lock.owns_lock()) return;
    while (requested.exchange(false, std::memory_order_acq_rel)) ::malloc_trim(0);
  }
}

}  // namespace achat
