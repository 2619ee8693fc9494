// How the per-connection threads ask the kernel to schedule them.
#pragma once

#include <sched.h>

namespace achat {

// Puts the calling thread under SCHED_BATCH (no privilege needed; same nice level): the kernel
// then does not let it preempt a running thread when it wakes up. Readers and writers are
// woken by the thousand, mostly by the broker; under the default policy each woken writer
// preempted the broker in the middle of a round, so one round cost a context switch per writer
// it fed. Measured in bench/RESULTS.md. Failure (a kernel without it) changes nothing else.
// Asks once per thread: a thread from the crew's cache keeps its policy from one connection to
// the next (and nothing else run on those threads changes it).
inline void schedule_as_batch_thread() noexcept {
  thread_local bool asked = false;
  if (asked) return;
  asked = true;
  const sched_param param{};
  ::sched_setscheduler(0, SCHED_BATCH, &param);
}

}  // namespace achat
