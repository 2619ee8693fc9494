#include "server_probe.h"

#include "proc_status.h"

namespace achat::load {

void ServerProbe::before_connect() {
  if (pid_) results_.server_before = sample_process(*pid_);
}

void ServerProbe::start_idle() {
  if (!pid_) return;
  results_.server_ready = sample_process(*pid_);
  idle_start_cpu_s_ = process_cpu_seconds(*pid_);
  idle_start_ = now_ns();
}

void ServerProbe::end_idle() {
  if (!pid_) return;
  const Nanos idle_end = now_ns();
  const auto idle_end_cpu_s = process_cpu_seconds(*pid_);
  if (idle_start_cpu_s_ && idle_end_cpu_s) {
    results_.server_idle_cpu_pct =
        (*idle_end_cpu_s - *idle_start_cpu_s_) / to_seconds(idle_end - idle_start_) * 100;
  }
}

void ServerProbe::start_timed() {
  if (!pid_) return;
  timed_start_cpu_s_ = process_cpu_seconds(*pid_);
  timed_start_switches_ = process_context_switches(*pid_);
}

void ServerProbe::end_timed() {
  if (!pid_) return;
  const auto end_cpu_s = process_cpu_seconds(*pid_);
  if (timed_start_cpu_s_ && end_cpu_s) results_.server_cpu_s = *end_cpu_s - *timed_start_cpu_s_;
  const auto end_switches = process_context_switches(*pid_);
  if (timed_start_switches_ && end_switches && *end_switches >= *timed_start_switches_) {
    results_.server_switches = *end_switches - *timed_start_switches_;
  }
}

void ServerProbe::at_end() {
  if (pid_) results_.server_end = sample_process(*pid_);
}

}  // namespace achat::load
