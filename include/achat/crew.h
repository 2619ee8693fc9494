// Starts and joins the server's threads.
#pragma once

#include <boost/thread/thread.hpp>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace achat {

// Owns every thread it starts (Boost.Thread, with an explicit stack size) and joins each one
// exactly once: finished threads are joined by the next spawn(), the rest by join_all() or the
// destructor. Thread safety: spawn(), join_all() and running() may be called from any thread,
// concurrently, except that join_all() (and so the destructor) must not run on one of the
// crew's own threads, which would wait for itself. Every join happens with mutex_ held, so a
// thread is never joined twice; the mutex is taken once when a thread starts and once when it
// ends, never per message. Promises: a body that throws is logged under `role` and ends only
// its own thread; join_all() returns once no thread of the crew is running, including threads
// spawned while it waited.
class Crew {
 public:
  explicit Crew(std::size_t stack_bytes) : stack_bytes_(stack_bytes) {}
  Crew(const Crew&) = delete;
  Crew& operator=(const Crew&) = delete;
  ~Crew() { join_all(); }

  // Runs body() on a new thread. `Body` may be move-only; it is destroyed on that thread right
  // after it returns. Throws boost::thread_resource_error if the thread cannot be created (e.g.
  // the process's thread limit); the body is then destroyed unrun.
  template <class Body>
  void spawn(std::string role, Body body) {
    spawn_function(std::move(role),
                   [task = std::make_shared<Body>(std::move(body))] { (*task)(); });
  }
  void join_all();
  std::size_t running() const;

 private:
  using Threads = std::list<boost::thread>;
  void spawn_function(std::string role, std::function<void()> body);
  void join_finished();  // with mutex_ held

  const std::size_t stack_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable thread_ended_;   // a thread added itself to finished_
  Threads threads_;                        // guarded by mutex_
  std::vector<Threads::iterator> finished_;  // guarded by mutex_: ended, not yet joined
};

}  // namespace achat
