// Results: what one run measured, and whether it passed. Filled by LoadRun, printed by report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "histogram.h"
#include "proc_status.h"

namespace achat::load {

struct Percentiles {
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

// A histogram's p50, p99, p99.9 and max, in microseconds.
inline Percentiles percentiles_of(const LatencyHistogram& histogram) {
  auto us = [](Nanos ns) { return static_cast<double>(ns) / 1e3; };
  return {us(histogram.quantile(0.5)), us(histogram.quantile(0.99)), us(histogram.quantile(0.999)),
          us(histogram.max())};
}

struct Results {
  bool ok = true;
  std::string error;  // why the run failed; empty if ok

  double connect_ms = 0;  // first connect started .. every TCP connect completed
  double login_ms = 0;    // first connect started .. every client's ready echo received
  std::optional<double> first_login_ms;  // storm: login_ms of the first storm (login_ms: the second)
  double timed_s = 0;     // ready barrier .. last delivery

  std::uint64_t messages_sent = 0;        // lines sent in the timed phase
  std::uint64_t deliveries = 0;           // lines received in the timed phase
  std::uint64_t deliveries_expected = 0;  // messages_sent * recipients

  Percentiles latency;   // receive time - send timestamp in the payload
  Percentiles send_lag;  // open loop: actual - scheduled send time (load generator lag)

  // churn: cycles (connect, login, one line, its echo, close) that completed and that failed
  // (refused, wrong or missing echo, closed or timed out first), and the time a completed one
  // took from the connect's start to its echo (in the timed phase: the whole run).
  std::uint64_t connections = 0;
  std::uint64_t failures = 0;
  Percentiles cycle;

  double load_cpu_s = 0;  // the load generator's own CPU time over the timed phase

  // The server process, if --server-pid was given: before connecting, after the ready
  // barrier, at the end.
  std::optional<ProcSample> server_before, server_ready, server_end;
  std::optional<double> server_cpu_s;         // server CPU time over the timed phase
  std::optional<std::uint64_t> server_switches;  // its threads' context switches, same phase
  std::optional<double> server_idle_cpu_pct;  // over one idle second after the ready barrier;
                                              // 100 = one core
};

}  // namespace achat::load
