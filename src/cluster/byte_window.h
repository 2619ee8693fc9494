// A byte bound on one queue between threads: what the producer has queued and the consumer has
// not yet handled, counted as a reader's unrouted bytes are (connection.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "stop_flag.h"

namespace achat::cluster {

// Shared by one producer thread and one consumer thread for as long as both run (the Node owns
// both of its windows and outlives the threads and the broker's Routes). The producer takes
// credit before it queues an item and the consumer gives it back once the item is handled, so
// used() never exceeds the limit, but for one item taken while nothing was outstanding (an item
// larger than the limit still goes, alone). A producer that must never wait (the broker) uses
// try_take() and drops what does not fit; one that may wait (the subscriber) uses take(), which
// returns false, taking nothing, once the stop flag is set.
class ByteWindow {
 public:
  explicit ByteWindow(std::int64_t limit) : limit_(limit) {}
  ByteWindow(const ByteWindow&) = delete;
  ByteWindow& operator=(const ByteWindow&) = delete;

  bool try_take(std::int64_t bytes) {
    std::lock_guard lock(mutex_);
    if (!fits(bytes)) return false;
    used_ += bytes;
    return true;
  }

  // Waits (in slices of kPoll, so a stop set without wake() is still seen) until `bytes` fit.
  bool take(std::int64_t bytes, StopFlag& stop) {
    std::unique_lock lock(mutex_);
    while (!fits(bytes)) {
      if (stop.stopped()) return false;
      changed_.wait_for(lock, kPoll);
    }
    used_ += bytes;
    return true;
  }

  void give_back(std::int64_t bytes) {
    if (bytes == 0) return;
    {
      std::lock_guard lock(mutex_);
      used_ -= bytes;
    }
    changed_.notify_all();
  }

  std::int64_t used() const {
    std::lock_guard lock(mutex_);
    return used_;
  }
  std::int64_t limit() const noexcept { return limit_; }

 private:
  static constexpr std::chrono::milliseconds kPoll{100};

  bool fits(std::int64_t bytes) const { return used_ == 0 || used_ + bytes <= limit_; }

  const std::int64_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::int64_t used_ = 0;  // guarded by mutex_
};

}  // namespace achat::cluster
