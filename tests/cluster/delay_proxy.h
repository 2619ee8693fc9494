// A network's latency on loopback: a TCP proxy that holds every byte for a while, each way.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "achat/socket.h"

namespace achat::testing {

// Owned by one test thread; its own threads accept and forward (four per connection, each
// waiting on its socket or its queue). Each connection to url() gets one to 127.0.0.1:`target`,
// and every chunk read on either side is written to the other `delay` after it arrived, so a
// request and its answer take twice `delay` more than without the proxy. Chunks keep their
// order; an end of stream is passed on after the chunks before it. pause() makes a partition:
// nothing more is passed on, either way, on any connection (bytes are still read and held, as a
// network's buffers and retransmissions would) until resume(). stall() pauses and also stops
// reading, as a peer that stopped reading: the kernel's buffers fill and a sender's writes
// block. pause_answers() pauses only what the server sends (a request arrives, its answer is
// held: an acknowledgement lost, as far as a client's timeout can tell), until resume(). The
// destructor cuts every connection and joins every thread.
class DelayProxy {
 public:
  DelayProxy(std::uint16_t target, std::chrono::microseconds delay);
  DelayProxy(const DelayProxy&) = delete;
  DelayProxy& operator=(const DelayProxy&) = delete;
  ~DelayProxy();

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  void pause();
  void stall();
  void pause_answers();
  void resume();

  // Shared by every lane's writer: it waits while the gate is shut.
  class Gate {
   public:
    void set_open(bool open);
    void wait_open();

   private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool open_ = true;  // guarded by mutex_
  };

 private:
  struct Link;

  void accept_links();

  const std::uint16_t target_;
  const std::chrono::microseconds delay_;
  Gate gate_;
  Gate reading_;  // shut by stall()
  Gate answers_;  // shut by pause_answers(): the server-to-client lanes only
  Socket listener_;
  std::uint16_t port_;
  std::mutex mutex_;
  bool stopping_ = false;                    // guarded by mutex_
  std::list<std::unique_ptr<Link>> links_;  // guarded by mutex_
  std::thread acceptor_;                     // last: it uses everything above
};

}  // namespace achat::testing
