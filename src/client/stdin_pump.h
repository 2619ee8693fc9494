// StdinPump: the thread that copies an input descriptor to the server, whole lines at a time.
//
// Owns: one std::jthread and the eventfd used to wake it. The Socket is borrowed and must
// outlive the pump.
// Threads: constructed, stopped and destroyed by one thread (the piped session's main thread);
// the pump thread is the only one that reads `input_fd` and sends on the socket while it runs.
// Promise: sends every complete input line, in order, as it is read; at end of input it sends
// an unterminated last line with a '\n' added and then half-closes the socket (SHUT_WR), and
// from just before that half-close finished() is true. stop() makes it return promptly without
// sending anything more; the destructor stops and joins. A failed send ends the pump quietly:
// the session learns about the broken connection from its own receive.
#pragma once

#include <atomic>
#include <thread>

#include "achat/socket.h"
#include "achat/unique_fd.h"

namespace achat::client {

class StdinPump {
 public:
  StdinPump(int input_fd, const Socket& server);
  StdinPump(const StdinPump&) = delete;
  StdinPump& operator=(const StdinPump&) = delete;
  ~StdinPump();

  // Wakes the pump thread and lets it return (idempotent, may be called before the dtor).
  void stop() noexcept;
  // True once all of the input was sent and the socket is (being) half-closed. Any thread.
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }

 private:
  void run() noexcept;

  int input_fd_;
  const Socket& server_;
  UniqueFd wake_;        // eventfd: readable once stop() was called
  std::atomic<bool> finished_{false};
  std::jthread thread_;  // last: starts after the members above exist, joins first
};

}  // namespace achat::client
