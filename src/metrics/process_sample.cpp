#include "process_sample.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace achat::metrics {

namespace {

// Fields of /proc/self/stat after the command name, which is in parentheses and may contain
// spaces: fields[0] is the state (field 3 of proc(5)).
std::optional<std::istringstream> stat_fields_after_name() {
  std::ifstream file("/proc/self/stat");
  std::string text;
  if (!std::getline(file, text)) return std::nullopt;
  const auto name_end = text.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  return std::istringstream(text.substr(name_end + 1));
}

std::optional<double> boot_time_seconds() {
  std::ifstream file("/proc/stat");
  std::string key;
  double value = 0;
  while (file >> key) {
    if (key == "btime" && file >> value) return value;
    file.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::optional<std::uint64_t> count_open_fds() {
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) return std::nullopt;
  std::uint64_t entries = 0;
  while (const dirent* entry = readdir(directory)) {
    if (entry->d_name[0] != '.') ++entries;
  }
  closedir(directory);
  return entries - 1;  // the directory's own descriptor
}

}  // namespace

ProcessSample sample_process() {
  ProcessSample sample;
  const auto page_bytes = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  if (std::ifstream statm("/proc/self/statm"); statm) {
    std::uint64_t size_pages = 0, resident_pages = 0;
    if (statm >> size_pages >> resident_pages) {
      sample.virtual_memory_bytes = size_pages * page_bytes;
      sample.resident_memory_bytes = resident_pages * page_bytes;
    }
  }
  sample.open_fds = count_open_fds();
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) sample.max_fds = limit.rlim_cur;
  if (auto fields = stat_fields_after_name()) {
    // proc(5): utime is field 14, stime 15, starttime 22; the state (field 3) is fields[0].
    std::string skip;
    for (int field = 3; field < 14; ++field) *fields >> skip;
    double user_ticks = 0, system_ticks = 0, start_ticks = 0;
    *fields >> user_ticks >> system_ticks;
    for (int field = 16; field < 22; ++field) *fields >> skip;
    *fields >> start_ticks;
    const auto ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (*fields && ticks_per_second > 0) {
      sample.cpu_seconds = (user_ticks + system_ticks) / ticks_per_second;
      if (const auto boot = boot_time_seconds()) {
        sample.start_time_seconds = *boot + start_ticks / ticks_per_second;
      }
    }
  }
  return sample;
}

}  // namespace achat::metrics
