#include "server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace achat::testing {

namespace {

pid_t spawn_with_output(const std::string& binary, const std::vector<std::string>& args,
                        int& output_fd, bool merge_stdout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  if (merge_stdout) posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw std::runtime_error("cannot start " + binary);
  }
  output_fd = pipe_fds[0];
  return pid;
}

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& options) {
  std::vector<std::string> args{"127.0.0.1:0"};
  args.insert(args.end(), options.begin(), options.end());
  pid_ = spawn_with_output(binary, args, stderr_fd_, /*merge_stdout=*/false);
  const std::string listening = "listening on 127.0.0.1:";
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::size_t at;
  while ((at = log_.find(listening)) == std::string::npos || log_.find('\n', at) == std::string::npos) {
    if (!read_log(until)) throw std::runtime_error("server did not start: " + log_);
  }
  port_ = static_cast<std::uint16_t>(std::stoi(log_.substr(at + listening.size())));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

void ServerProcess::signal(int number) const { ::kill(pid_, number); }

namespace {

std::size_t status_field(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  std::size_t value = 0;
  while (status >> key) {
    if (key == field + ":" && status >> value) return value;
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

std::size_t ServerProcess::rss_kib() const { return status_field(pid_, "VmRSS"); }
std::size_t ServerProcess::threads() const { return status_field(pid_, "Threads"); }

bool ServerProcess::read_log(std::chrono::steady_clock::time_point until) {
  // Past the deadline this still takes what is already there (poll with timeout 0).
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  pollfd ready{stderr_fd_, POLLIN, 0};
  if (::poll(&ready, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0) return false;
  char chunk[4096];
  const ssize_t n = ::read(stderr_fd_, chunk, sizeof chunk);
  if (n <= 0) {
    stderr_closed_ = true;
    return false;
  }
  log_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

bool ServerProcess::wait_for_log(const std::string& text, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (log_.find(text) == std::string::npos) {
    if (!read_log(until)) return false;
  }
  return true;
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (read_log(until)) {
  }
  if (!stderr_closed_) return std::nullopt;  // still running at the deadline
  // stderr is closed only when the process exits, so this wait is short.
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return decode(status);
}

Finished run_to_completion(const std::string& binary, const std::vector<std::string>& args) {
  int output_fd = -1;
  const pid_t pid = spawn_with_output(binary, args, output_fd, /*merge_stdout=*/true);
  Finished finished;
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(output_fd, chunk, sizeof chunk)) > 0) finished.out.append(chunk, static_cast<std::size_t>(n));
  ::close(output_fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  finished.status = decode(status);
  return finished;
}

}  // namespace achat::testing
