// A one-way "stop" that threads can check, or wait on with a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace achat::cluster {

// Any thread may call any member. Once stop() is called, stopped() stays true and every
// wait_for() returns at once.
class StopFlag {
 public:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    changed_.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }
  // Waits out `pause` (a retry's back-off) unless stopped first; true if stopped.
  bool wait_for(std::chrono::milliseconds pause) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, pause, [this] { return stopped_; });
  }
  // Waits until `deadline` unless stopped first; true if stopped.
  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [this] { return stopped_; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopped_ = false;  // guarded by mutex_
};

}  // namespace achat::cluster
