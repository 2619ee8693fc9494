// ServerProbe: watches the server under test, if its pid was given, and writes what it sees
// into the run's Results: memory and threads before connecting, at the ready barrier and at the
// end; CPU over the idle second after the ready barrier and over the timed phase. Without a pid
// every call does nothing. Owned and used by LoadRun's thread; `results` must outlive it.
#pragma once

#include <sys/types.h>

#include <optional>

#include "clock.h"
#include "results.h"

namespace achat::load {

class ServerProbe {
 public:
  ServerProbe(std::optional<pid_t> pid, Results& results) : pid_(pid), results_(results) {}

  bool watching() const noexcept { return pid_.has_value(); }

  void before_connect();
  // At the ready barrier: samples the server and starts the idle window.
  void start_idle();
  // Every client logged in and nothing sent since start_idle(): a server that used CPU
  // meanwhile spins or polls.
  void end_idle();
  void start_timed();
  void end_timed();
  void at_end();

 private:
  std::optional<pid_t> pid_;
  Results& results_;
  Nanos idle_start_ = 0;
  std::optional<double> idle_start_cpu_s_;
  std::optional<double> timed_start_cpu_s_;
  std::optional<std::uint64_t> timed_start_switches_;
};

}  // namespace achat::load
