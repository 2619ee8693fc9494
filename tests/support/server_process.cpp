#include "server_process.h"

#include <fcntl.h>
#include <cerrno>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& options,
                             const std::string& address) {
  std::vector<std::string> args{address};
  args.insert(args.end(), options.begin(), options.end());
  pid_ = spawn_with_output(binary, args, output_fd_, /*merge_stdout=*/true);
  collector_ = std::thread([this] { collect_output(); });
  const std::string listening = "listening on ";
  const bool started = [&] {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] {
      const auto at = log_.find(listening);
      return at != std::string::npos && log_.find('\n', at) != std::string::npos;
    });
  }();
  if (!started) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    collector_.join();
    ::close(output_fd_);
    throw std::runtime_error("server did not start: " + log_);
  }
  // The port follows the last ':' of that line, whatever form the host takes ("::1:PORT").
  std::string line = log().substr(log().find(listening));
  line.resize(line.find('\n'));
  port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  collector_.join();  // the pipe closed with the process
  ::close(output_fd_);
}

void ServerProcess::collect_output() {
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(output_fd_, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
    if (n <= 0) continue;
    std::lock_guard lock(mutex_);
    log_.append(chunk, static_cast<std::size_t>(n));
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  output_closed_ = true;
  changed_.notify_all();
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
std::size_t ServerProcess::peak_rss_kib() const { return status_field(pid_, "VmHWM"); }
std::size_t ServerProcess::threads() const { return status_field(pid_, "Threads"); }

std::string ServerProcess::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

bool ServerProcess::wait_for_log(const std::string& text, std::chrono::milliseconds deadline) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return log_.find(text) != std::string::npos; });
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds deadline) {
  {
    std::unique_lock lock(mutex_);
    // The output closes when the process exits, so the waitpid below is short.
    if (!changed_.wait_for(lock, deadline, [&] { return output_closed_; })) return std::nullopt;
  }
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
