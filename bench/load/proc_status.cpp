#include "proc_status.h"

#include <time.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace achat::load {

std::optional<ProcSample> sample_process(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  ProcSample sample;
  bool have_rss = false;
  bool have_threads = false;
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "VmRSS:") have_rss = static_cast<bool>(fields >> sample.rss_kb);
    if (key == "Threads:") have_threads = static_cast<bool>(fields >> sample.threads);
  }
  if (!have_rss || !have_threads) return std::nullopt;
  return sample;
}

std::optional<std::uint64_t> process_context_switches(pid_t pid) {
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  std::filesystem::directory_iterator task(tasks, error);
  if (error) return std::nullopt;
  std::uint64_t total = 0;
  for (; task != std::filesystem::directory_iterator(); task.increment(error)) {
    std::ifstream status(task->path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      std::istringstream fields(line);
      std::string key;
      std::uint64_t count = 0;
      fields >> key;
      if ((key == "voluntary_ctxt_switches:" || key == "nonvoluntary_ctxt_switches:") && fields >> count) {
        total += count;
      }
    }
    if (error) break;
  }
  return total;
}

std::optional<double> process_cpu_seconds(pid_t pid) {
  clockid_t clock{};
  timespec ts{};
  if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &ts) != 0) {
    return std::nullopt;
  }
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace achat::load
