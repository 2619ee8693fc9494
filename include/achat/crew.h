// Starts and joins the server's threads, and keeps finished ones parked for the next body.
#pragma once

#include <atomic>
#include <boost/thread/thread.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "achat/thread_counts.h"

namespace achat {

using CrewCounts = ThreadCounts;  // what a Crew's threads do now, and did since it was built

// Owns every thread it starts (Boost.Thread, with an explicit stack size) and joins each one
// exactly once: by the next spawn(), by join_all() or by the destructor. (So a thread retired
// from the cache keeps its stack mapped until the next spawn() joins it.)
//
// The thread cache: with `cache` > 0, a thread whose body returned first destroys the body (so
// it holds nothing of it: for a connection's reader or writer, its Connection, fd and channel
// senders are gone), then parks, if fewer than `cache` threads are parked, for at most `idle`;
// spawn() hands its body to a parked thread (the most recently parked, or one parked just
// before it that last ran the same role, so threads keep their names) before it would start a
// new one, and waits for a thread that is between its body and parking rather than start one
// beside it.
// So a thread is started only when none is parked or about to be, and after spawn() joined
// every ended one: the crew's threads (running, parked, or ended with their stacks still
// mapped) never outnumber the most bodies it ran at once, or the threads prestart() started if
// more. A thread parked for `idle` without a body ends, unless it is one of the prestart()
// count of parked threads kept. join_all() wakes the parked threads and they end; while it
// waits no thread parks.
//
// Thread safety: spawn(), join_all(), running() and counts() may be called from any thread,
// concurrently, except that join_all() (and so the destructor) must not run on one of the
// crew's own threads, which would wait for itself. mutex_ is taken once when a body starts and
// once when it ends, never per message; every join happens with it held, so a thread is never
// joined twice. Promises: a body that throws is logged under its role and ends only that body
// (its thread parks like any other); join_all() returns once no thread of the crew exists,
// including threads spawned while it waited.
class Crew {
 public:
  // How long a parked thread waits for a body before it ends.
  static constexpr std::chrono::milliseconds kParkedIdle{60'000};

  explicit Crew(std::size_t stack_bytes, std::size_t cache = 0,
                std::chrono::milliseconds idle = kParkedIdle)
      : stack_bytes_(stack_bytes), cache_(cache), idle_(idle) {}
  Crew(const Crew&) = delete;
  Crew& operator=(const Crew&) = delete;
  ~Crew() { join_all(); }

  // Runs body() on a parked thread, or on a new one. `Body` may be move-only; it is destroyed
  // on that thread right after it returns. Throws boost::thread_resource_error if a thread is
  // needed and cannot be created (e.g. the process's thread limit); the body is then destroyed
  // unrun.
  template <class Body>
  void spawn(std::string role, Body body) {
    spawn_function(std::move(role),
                   [task = std::make_shared<Body>(std::move(body))] { (*task)(); });
  }
  // Starts `count` threads (at most the cache) that park at once, and returns when they have;
  // that many parked threads are then kept however long they wait (idle retirement spares
  // them). Throws boost::thread_resource_error if a thread cannot be created; those started
  // stay.
  void prestart(std::size_t count);
  void join_all();
  std::size_t running() const;
  CrewCounts counts() const;

 private:
  struct Worker {
    boost::thread thread;
    std::string role;            // guarded by mutex_
    std::function<void()> body;  // guarded by mutex_: set by spawn(), taken by the thread
    std::condition_variable handed;  // body set, or join_all() began, while parked
    std::list<Worker*>::iterator parked_at;  // guarded by mutex_: its place in parked_ if parked
  };
  using Workers = std::list<Worker>;

  void spawn_function(std::string role, std::function<void()> body);
  // With mutex_ held: a new thread that runs `body` (none: it parks first), then serves on.
  void start_thread(std::string role, std::function<void()> body);
  void serve(Worker& self, Workers::iterator slot);  // a thread's whole life
  bool park(std::unique_lock<std::mutex>& lock, Worker& self);  // true: a body was handed
  void join_finished();  // with mutex_ held

  const std::size_t stack_bytes_;
  const std::size_t cache_;
  const std::chrono::milliseconds idle_;
  mutable std::mutex mutex_;
  std::condition_variable thread_ended_;     // a thread added itself to finished_
  std::condition_variable parked_or_ended_;  // a thread past its body parked or ended
  Workers workers_;                          // guarded by mutex_: every thread not yet joined
  std::list<Worker*> parked_;                // guarded by mutex_: most recently parked last
  std::vector<Workers::iterator> finished_;  // guarded by mutex_: ended, not yet joined
  std::size_t joining_ = 0;                  // guarded by mutex_: join_all() calls waiting
  std::size_t busy_ = 0;                     // guarded by mutex_: threads running a body
  // Threads between the end of their body and parking (or ending). Raised without mutex_,
  // before the body is destroyed, so a spawn() that sees the resources freed sees it too.
  std::atomic<std::size_t> finishing_{0};
  std::uint64_t created_ = 0;  // guarded by mutex_
  std::uint64_t reused_ = 0;   // guarded by mutex_
  std::size_t kept_ = 0;       // guarded by mutex_: parked threads never retired (prestart())
};

}  // namespace achat
