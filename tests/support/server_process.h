// The real a-chat-server binary as a child process, for tests of signals, exit codes and logs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace achat::testing {

// Owned by one test thread. Starts the binary on 127.0.0.1:0 with `options`, reads its stderr
// until it logs its port. The destructor kills it (SIGKILL) if it is still running.
class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const std::vector<std::string>& options);
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  std::uint16_t port() const { return port_; }
  void signal(int number) const;
  // VmRSS and Threads from /proc/PID/status.
  std::size_t rss_kib() const;
  std::size_t threads() const;
  // The exit status if the process exits before the deadline (stderr is drained meanwhile).
  std::optional<int> wait_exit(std::chrono::milliseconds deadline);
  // True once `text` appears in the log (read as it comes) before the deadline.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds deadline);
  // Everything the process wrote to stderr so far (complete after wait_exit).
  const std::string& log() const { return log_; }

 private:
  bool read_log(std::chrono::steady_clock::time_point until);

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  bool stderr_closed_ = false;
  std::uint16_t port_ = 0;
  std::string log_;
};

// The server binary under test (set by binary_test_main.cpp from the command line).
const std::string& server_binary();

// Runs the binary with `args` to completion; returns its exit status and what it printed.
struct Finished {
  int status = -1;
  std::string out;
};
Finished run_to_completion(const std::string& binary, const std::vector<std::string>& args);

}  // namespace achat::testing
