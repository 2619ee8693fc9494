// The real a-chat-server binary as a child process, for tests of signals, exit codes and logs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace achat::testing {

// How a ServerProcess is started and its output read; the defaults suit most tests.
struct ServerLaunch {
  // NAME=value entries added to the environment the server inherits.
  std::vector<std::string> environment{};
  // False: stdout and stderr go to a pipe of one page that is read only until the port is
  // known, then not at all until drain_output(), so the server soon finds its log output full.
  bool drain_output = true;
  // True: JOURNAL_STREAM names the output pipe, as systemd sets it for a service.
  bool journal_stream = false;
  // Non-empty: the test passes --log-file with this path; the port is read from that file.
  std::string log_file{};
  // Where the server listens (its first argument).
  std::string address = "127.0.0.1:0";
  // Set: the server starts under `prlimit --nofile=N:N` (soft and hard fd limit N).
  std::optional<unsigned> open_files{};
};

// Owned by one test thread. Starts the binary on launch.address with `options` and waits until it
// logs its port. A helper thread reads its output as it comes (unless launch.drain_output is
// false), so a chatty server never blocks on a full pipe. The destructor kills the process
// (SIGKILL) if it is still running.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::vector<std::string>& options,
                const ServerLaunch& launch = {});
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  void signal(int number) const;
  // VmRSS, VmHWM (peak RSS) and Threads from /proc/PID/status.
  std::size_t rss_kib() const;
  std::size_t peak_rss_kib() const;
  std::size_t threads() const;
  // Every thread's backtrace (gdb -p PID -batch), for a failure message when the server seems
  // stuck; a line saying why if gdb is missing or cannot attach (ptrace refused).
  std::string thread_stacks() const;
  // Caps the process's address space (RLIMIT_AS) at its current size plus `headroom_bytes`:
  // a larger mapping, such as a bigger thread stack, then fails.
  void limit_address_space(std::size_t headroom_bytes) const;
  // The exit status if the process exits before the deadline.
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  // True once `text` appears in the output before the deadline.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds deadline);
  // Everything the process has written so far (all of it after wait_exit).
  std::string log() const;
  // Starts (again) reading the output of a server launched with drain_output false; wait_exit()
  // needs it, since the output closes only once read to the end.
  void drain_output();

 private:
  void collect_output();

  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string log_;            // guarded by mutex_
  bool output_closed_ = false; // guarded by mutex_
  bool draining_ = true;       // guarded by mutex_
  std::thread collector_;
};

// Sanitizer runtimes keep freed memory in quarantine and add shadow memory, so RSS bounds are
// asserted only in normal builds (the numbers are still printed).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssIsMeaningful = false;
#else
inline constexpr bool kRssIsMeaningful = true;
#endif

// The server binary under test (set by binary_test_main.cpp from the command line).
const std::string& server_binary();

// Runs the binary with `args` to completion; returns its exit status and what it printed.
struct Finished {
  int status = -1;
  std::string out;
};
Finished run_to_completion(const std::string& binary, const std::vector<std::string>& args);

}  // namespace achat::testing
