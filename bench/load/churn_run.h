// ChurnRun: the churn workload, users coming and going. Owns `clients` slots, the event loop and
// the measurements; driven from one thread with edge-triggered epoll, like LoadRun. Each slot
// loops until `duration_s` has passed since the run started: connect, send a fresh login
// (slot and cycle number, so the server's teardown of the slot's last session can never make it
// "already online") and one line addressed to itself, wait for that line's echo, close (the
// client leaves first, as a user does), and connect again in the same turn of the loop. Cycles
// under way when the duration ends run to their end; none starts after it.
// Promises: a cycle completes only when the first line it receives is exactly
// "from <login>: <payload>" for the line it sent; anything else (an "error:" refusal, another
// line, a close or a socket error before the echo, a failed connect, no echo by the deadline)
// counts as a failure, named in the results (the first one's reason), and the run passes only
// with none. run() never runs past the deadline.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "connection.h"
#include "epoll.h"
#include "histogram.h"
#include "options.h"
#include "results.h"
#include "server_probe.h"

namespace achat::load {

class ChurnRun {
 public:
  explicit ChurnRun(const Options& options);

  Results run();

 private:
  // One client slot's current cycle.
  struct Slot {
    Connection connection;  // closed (fd -1) between cycles
    bool connecting = false;
    std::uint64_t cycle = 0;  // cycles this slot started
    std::string login;
    std::string echo;         // the line the server must send back, without '\n'
    Nanos started = 0;        // when the connect began
  };

  // How a slot's read ended: still waiting, the echo came, or why the cycle failed.
  struct ReadOutcome {
    bool echoed = false;
    std::string problem;  // non-empty: the cycle failed
  };

  void loop();
  void start_cycle(std::uint32_t index);
  void on_event(std::uint32_t index, std::uint32_t events);
  void on_connected(std::uint32_t index);
  ReadOutcome read(std::uint32_t index, Nanos received);
  void complete(std::uint32_t index, Nanos received);
  void fail_cycle(std::uint32_t index, const std::string& problem);
  void end_cycle(std::uint32_t index);
  void fail_unfinished();

  const Options& options_;
  char initial_;  // of every login: 'c' over TCP, 'w' over WebSocket (as LoadRun's)
  std::vector<Slot> slots_;
  Epoll epoll_;
  std::vector<epoll_event> events_;
  std::vector<char> scratch_;          // read buffer shared by all connections
  std::vector<std::uint32_t> to_start_;  // slots whose cycle ended this turn of the loop
  std::uint32_t active_ = 0;           // slots in a cycle

  Nanos started_ = 0;
  Nanos stop_starting_ = 0;  // no cycle starts after this
  Nanos deadline_ = 0;
  Nanos last_ended_ = 0;
  Nanos start_load_cpu_ = 0;

  LatencyHistogram cycle_;
  Results results_;
  ServerProbe server_;  // writes into results_
};

}  // namespace achat::load
