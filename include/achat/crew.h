// Starts and joins the server's threads.
#pragma once

#include <boost/thread/thread.hpp>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace achat {

// Owns every thread it starts (Boost.Thread, with an explicit stack size) and joins each one:
// finished threads are joined by the next spawn(), the rest by join_all() or the destructor.
// spawn() and join_all() may be called from any thread (a mutex guards the list; it is taken
// once when a thread starts and once when it ends, never per message). Promises: a body that
// throws is logged under `role` and ends only its own thread.
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
  // Call once nothing spawns any more.
  void join_all();
  std::size_t running() const;

 private:
  using Threads = std::list<boost::thread>;
  void spawn_function(std::string role, std::function<void()> body);
  void join_finished();  // with mutex_ held

  const std::size_t stack_bytes_;
  mutable std::mutex mutex_;
  Threads threads_;
  std::vector<Threads::iterator> finished_;
};

}  // namespace achat
