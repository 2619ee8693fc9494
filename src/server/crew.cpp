#include "achat/crew.h"

#include "ops/thread_name.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <utility>
#include <spdlog/spdlog.h>

namespace achat {

namespace {

// How far back among the parked threads spawn() looks for one that last ran the same role: a
// connection's reader and writer park side by side, so two would do.
constexpr int kRoleLookBack = 4;

// The thread keeps its name while parked: `named` is what it was last named, so a thread reused
// for the same role is not renamed (a system call per connection saved).
void run_logged(const std::string& role, const std::function<void()>& body, std::string& named) {
  if (role != named) {
    name_this_thread(role);
    named = role;
  }
  try {
    body();
  } catch (const std::exception& error) {
    spdlog::error("{} thread failed: {}", role, error.what());
  } catch (...) {
    spdlog::error("{} thread failed", role);
  }
}

}  // namespace

void Crew::spawn_function(std::string role, std::function<void()> body) {
  std::unique_lock lock(mutex_);
  join_finished();
  if (cache_ > 0 && joining_ == 0) {
    // A thread past its body parks (or ends) within a few instructions: wait for it rather
    // than start a thread beside it, so threads never outnumber the bodies run at once.
    parked_or_ended_.wait(lock, [this] {
      return !parked_.empty() || finishing_.load() == 0 || joining_ > 0;
    });
    if (!parked_.empty() && joining_ == 0) {
      // The most recently parked thread, preferring one among the last few that ran this role.
      auto chosen = std::prev(parked_.end());
      for (auto [at, looked] = std::pair{chosen, 1};; --at, ++looked) {
        if ((*at)->role == role) {
          chosen = at;
          break;
        }
        if (at == parked_.begin() || looked == kRoleLookBack) break;
      }
      Worker* worker = *chosen;
      parked_.erase(chosen);
      worker->role = std::move(role);
      worker->body = std::move(body);
      ++busy_;
      ++reused_;
      worker->handed.notify_one();
      return;
    }
  }
  start_thread(std::move(role), std::move(body));
  ++busy_;
}

void Crew::prestart(std::size_t count) {
  std::unique_lock lock(mutex_);
  count = std::min(count, cache_);
  for (std::size_t started = 0; started < count; ++started) {
    try {
      start_thread({}, nullptr);
    } catch (...) {
      kept_ = started;  // the ones that did start
      throw;
    }
  }
  kept_ = count;
  parked_or_ended_.wait(lock, [&] { return parked_.size() >= count || joining_ > 0; });
}

void Crew::start_thread(std::string role, std::function<void()> body) {
  const auto slot = workers_.emplace(workers_.end());
  slot->role = std::move(role);
  slot->body = std::move(body);
  boost::thread::attributes attributes;
  attributes.set_stack_size(stack_bytes_);
  try {
    slot->thread = boost::thread(attributes, [this, slot] { serve(*slot, slot); });
  } catch (...) {
    workers_.erase(slot);
    throw;
  }
  ++created_;
}

void Crew::serve(Worker& self, Workers::iterator slot) {
  std::string named;
  std::unique_lock lock(mutex_);
  // A prestarted thread has no body yet: it parks first.
  bool handed = static_cast<bool>(self.body) || park(lock, self);
  while (handed) {
    std::function<void()> body = std::move(self.body);
    self.body = nullptr;
    const std::string role = self.role;
    lock.unlock();
    run_logged(role, body, named);
    finishing_.fetch_add(1);
    body = nullptr;  // release what the body owned (a connection, its fd, senders) before parking
    lock.lock();
    finishing_.fetch_sub(1);
    --busy_;
    handed = park(lock, self);
  }
  // Joined by the next spawn() or join_all(), never by another ending thread: one that joined
  // with mutex_ held would wait for a thread that still needs a CPU to exit, and thousands of
  // parked threads woken at shutdown then formed a convoy (more than 10 s for 20,000).
  finished_.push_back(slot);
  thread_ended_.notify_all();
}

bool Crew::park(std::unique_lock<std::mutex>& lock, Worker& self) {
  // Whatever this thread decides, a spawn() waiting for it sees the outcome once mutex_ is free.
  parked_or_ended_.notify_all();
  if (joining_ > 0 || parked_.size() >= cache_) return false;
  self.parked_at = parked_.insert(parked_.end(), &self);
  auto deadline = std::chrono::steady_clock::now() + idle_;
  while (!self.body) {
    const bool retire =
        joining_ > 0 || (self.handed.wait_until(lock, deadline) == std::cv_status::timeout && !self.body &&
                         parked_.size() > kept_);
    if (retire) {
      parked_.erase(self.parked_at);
      return false;
    }
    if (std::chrono::steady_clock::now() >= deadline) deadline = std::chrono::steady_clock::now() + idle_;
  }
  return true;
}

// A finished thread has nothing left to do but return, so joining it here is brief.
void Crew::join_finished() {
  for (auto slot : finished_) {
    slot->thread.join();
    workers_.erase(slot);
  }
  finished_.clear();
}

void Crew::join_all() {
  std::unique_lock lock(mutex_);
  ++joining_;
  for (Worker* parked : parked_) parked->handed.notify_one();
  parked_or_ended_.notify_all();
  while (true) {
    join_finished();
    if (workers_.empty()) break;
    thread_ended_.wait(lock);
  }
  --joining_;
}

std::size_t Crew::running() const {
  std::lock_guard lock(mutex_);
  return busy_;
}

CrewCounts Crew::counts() const {
  std::lock_guard lock(mutex_);
  return {busy_, parked_.size(), created_, reused_};
}

}  // namespace achat
