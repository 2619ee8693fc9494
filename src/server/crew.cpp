#include "achat/crew.h"

#include "ops/thread_name.h"

#include <exception>
#include <spdlog/spdlog.h>

namespace achat {

void Crew::spawn_function(std::string role, std::function<void()> body) {
  std::lock_guard lock(mutex_);
  join_finished();
  const auto slot = threads_.emplace(threads_.end());
  auto run = [this, slot, role = std::move(role), body = std::move(body)]() mutable {
    name_this_thread(role);
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
    thread_ended_.notify_all();
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

// A finished thread has nothing left to do but return, so joining it here is brief.
void Crew::join_finished() {
  for (auto slot : finished_) {
    slot->join();
    threads_.erase(slot);
  }
  finished_.clear();
}

void Crew::join_all() {
  std::unique_lock lock(mutex_);
  while (true) {
    join_finished();
    if (threads_.empty()) return;
    thread_ended_.wait(lock);
  }
}

std::size_t Crew::running() const {
  std::lock_guard lock(mutex_);
  return threads_.size() - finished_.size();
}

}  // namespace achat
