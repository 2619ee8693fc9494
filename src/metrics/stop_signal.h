// StopSignal: a one-way "stop now" flag that a poll() can wait on, so a thread blocked on a
// socket wakes the moment another thread asks it to stop.
#pragma once

#include <chrono>
#include <optional>

#include "achat/unique_fd.h"

namespace achat::metrics {

// Owns one eventfd (closed with it). raise() may be called from any thread, any number of
// times; once raised it stays raised. wait() is called by the one thread doing the I/O.
class StopSignal {
 public:
  StopSignal();  // throws std::system_error if no eventfd can be created
  void raise() noexcept;

  enum class Wake { ready, timed_out, stopped };
  // Blocks until `fd` has one of `events` (poll(2) bits), the deadline passes (none: never) or
  // the signal is raised, whichever comes first; a raised signal wins over a ready fd. With fd
  // -1 it waits for the deadline or the signal alone (a pause that a stop cuts short).
  Wake wait(int fd, short events,
            std::optional<std::chrono::steady_clock::time_point> deadline) const noexcept;

 private:
  UniqueFd event_;
};

}  // namespace achat::metrics
