#include "achat/crew.h"

#include <exception>
#include <spdlog/spdlog.h>

namespace achat {

void Crew::spawn_function(std::string role, std::function<void()> body) {
  std::lock_guard lock(mutex_);
  join_finished();
  const auto slot = threads_.emplace(threads_.end());
  auto run = [this, slot, role = std::move(role), body = std::move(body)]() mutable {
    try {
      body();
    } catch (const std::exception& error) {
      spdlog::error("{} thread failed: {}", role, error.what());
    } catch (...) {
      spdlog::error("{} thread failed", role);
    }
    body = nullptr;  // release what the body owned before announcing the end
    std::lock_guard finished_lock(mutex_);
    finished_.push_back(slot);
  };
  boost::thread::attributes attributes;
  attributes.set_stack_size(stack_bytes_);
  try {
    *slot = boost::thread(attributes, std::move(run));
  } catch (...) {
    threads_.erase(slot);
    throw;
  }
}

void Crew::join_finished() {
  for (auto slot : finished_) {
    slot->join();
    threads_.erase(slot);
  }
  finished_.clear();
}

void Crew::join_all() {
  while (true) {
    Threads running;
    {
      std::lock_guard lock(mutex_);
      join_finished();
      if (threads_.empty()) return;
      running.splice(running.end(), threads_);
    }
    // Joined without the lock, which the ending threads need. They push their (now moved)
    // slots onto finished_; splice keeps iterators valid, so clear them after.
    for (auto& thread : running) thread.join();
    std::lock_guard lock(mutex_);
    finished_.clear();
  }
}

std::size_t Crew::running() const {
  std::lock_guard lock(mutex_);
  return threads_.size() - finished_.size();
}

}  // namespace achat
