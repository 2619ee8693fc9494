// Samples another process: resident memory and thread count (/proc/PID/status), CPU time (the
// kernel's CPU clock of the process).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace achat::load {

struct ProcSample {
  std::uint64_t rss_kb = 0;   // VmRSS
  std::uint64_t threads = 0;  // Threads
};

// nullopt if the process is gone or the file lacks either field.
std::optional<ProcSample> sample_process(pid_t pid);

// User + system CPU time of all the process's threads so far (exited ones included), in
// seconds. This is utime + stime of /proc/PID/stat, read from the process's CPU clock
// (clock_getcpuclockid) to the nanosecond instead of in 10 ms clock ticks, which would be 7%
// of a 0.15 s relay run. nullopt if the process is gone.
std::optional<double> process_cpu_seconds(pid_t pid);

// Context switches (voluntary and involuntary) of the process's live threads so far, summed
// over /proc/PID/task/*/status: how often its threads slept or were preempted. Threads that
// have exited are not counted, so read it while the threads in question run. nullopt if the
// process is gone.
std::optional<std::uint64_t> process_context_switches(pid_t pid);

}  // namespace achat::load
