#include "server_process.h"

#include <fcntl.h>
#include <cerrno>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <sys/resource.h>
#include <sys/stat.h>

#include "temp_dir.h"
#include "test_client.h"

extern char** environ;

namespace achat::testing {

namespace {

constexpr const char* kListening = "listening on ";

// The environment of this process plus `extra` (NAME=value entries, which win).
std::vector<std::string> environment_with(const std::vector<std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable(*entry);
    const std::string name = variable.substr(0, variable.find('=') + 1);
    const bool overridden = std::any_of(extra.begin(), extra.end(), [&](const std::string& e) {
      return e.rfind(name, 0) == 0;
    });
    if (!overridden) entries.push_back(variable);
  }
  entries.insert(entries.end(), extra.begin(), extra.end());
  return entries;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& text : strings) result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

// "DEVICE:INODE" of the pipe, as systemd formats JOURNAL_STREAM.
std::string journal_stream_of(int fd) {
  struct stat pipe_stat {};
  ::fstat(fd, &pipe_stat);
  return "JOURNAL_STREAM=" + std::to_string(pipe_stat.st_dev) + ":" + std::to_string(pipe_stat.st_ino);
}

pid_t spawn_with_output(const std::string& binary, const std::vector<std::string>& args,
                        int& output_fd, bool merge_stdout, const ServerLaunch& launch = {}) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (!launch.drain_output && ::fcntl(pipe_fds[1], F_SETPIPE_SZ, 4096) < 0) {
    throw std::runtime_error("cannot shrink the pipe");
  }
  std::vector<std::string> extra = launch.environment;
  if (launch.journal_stream) extra.push_back(journal_stream_of(pipe_fds[1]));
  std::vector<std::string> environment = environment_with(extra);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  if (merge_stdout) posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  // prlimit execs the server in its own process, so `pid` is the server's.
  std::vector<std::string> command;
  if (launch.open_files) {
    const std::string limit = std::to_string(*launch.open_files);
    command = {"/usr/bin/prlimit", "--nofile=" + limit + ":" + limit, "--"};
  }
  command.push_back(binary);
  command.insert(command.end(), args.begin(), args.end());
  std::vector<char*> argv = pointers(command);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, command[0].c_str(), &actions, nullptr, argv.data(),
                               pointers(environment).data());
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

bool has_listening_line(const std::string& log_text) {
  const auto at = log_text.find(kListening);
  return at != std::string::npos && log_text.find('\n', at) != std::string::npos;
}

// The port follows the last ':' of the "listening on" line, whatever form the host takes
// ("127.0.0.1:PORT", "[::1]:PORT").
std::uint16_t port_from(const std::string& log_text) {
  std::string line = log_text.substr(log_text.find(kListening));
  line.resize(line.find('\n'));
  return static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
}

}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& options,
                             const ServerLaunch& launch)
    : draining_(launch.drain_output) {
  std::vector<std::string> args{launch.address};
  args.insert(args.end(), options.begin(), options.end());
  pid_ = spawn_with_output(binary, args, output_fd_, /*merge_stdout=*/true, launch);
  collector_ = std::thread([this] { collect_output(); });
  auto output = [&] { return launch.log_file.empty() ? log() : read_file(launch.log_file); };
  const bool started = eventually([&] { return has_listening_line(output()); }, std::chrono::seconds(20));
  if (!started) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    drain_output();
    collector_.join();
    ::close(output_fd_);
    throw std::runtime_error("server did not start: " + log_);
  }
  port_ = port_from(output());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  drain_output();
  collector_.join();  // the pipe closed with the process
  ::close(output_fd_);
}

void ServerProcess::drain_output() {
  std::lock_guard lock(mutex_);
  draining_ = true;
  changed_.notify_all();
}

void ServerProcess::collect_output() {
  char chunk[4096];
  ssize_t n;
  while (true) {
    {
      // Undrained: stop reading once the port is known, until drain_output().
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return draining_ || log_.find(kListening) == std::string::npos; });
    }
    n = ::read(output_fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
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

void ServerProcess::limit_address_space(std::size_t headroom_bytes) const {
  const rlimit cap{status_field(pid_, "VmSize") * 1024 + headroom_bytes, RLIM_INFINITY};
  if (::prlimit(pid_, RLIMIT_AS, &cap, nullptr) != 0) throw std::runtime_error("prlimit failed");
}

std::string ServerProcess::thread_stacks() const {
  const std::string command =
      "gdb -p " + std::to_string(pid_) + " -batch -ex 'thread apply all bt' 2>&1 </dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "(no stacks: cannot run gdb)";
  std::string text;
  char chunk[4096];
  while (const std::size_t got = std::fread(chunk, 1, sizeof chunk, pipe)) text.append(chunk, got);
  const int status = ::pclose(pipe);
  if (text.find("Thread ") == std::string::npos) {
    return "(no stacks: gdb exited with status " + std::to_string(status) + ")\n" + text;
  }
  return text;
}

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
