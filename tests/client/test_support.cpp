#include "test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "io.h"

extern char** environ;

namespace achat::client::testing {

namespace {

using namespace std::chrono_literals;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int milliseconds_until(Clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  return static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
}

void ignore_sigpipe_once() {
  static const bool done = [] {
    ::signal(SIGPIPE, SIG_IGN);  // a test writing to a dead child must fail, not die
    return true;
  }();
  (void)done;
}

}  // namespace

Clock::time_point deadline() { return Clock::now() + 10s; }

std::string client_path() {
  const char* path = std::getenv("ACHAT_CLIENT_EXE");
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error("ACHAT_CLIENT_EXE is not set: run these tests with meson test");
  }
  return path;
}

// ---- FakeServer ----------------------------------------------------------------------------

FakeServer::FakeServer()
    : listener_(Socket::listen_on(Endpoint{"127.0.0.1", 0}, 4)), port_(listener_.local_port()) {}

std::string FakeServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

bool FakeServer::has_pending_client() const {
  pollfd entry{listener_.fd(), POLLIN, 0};
  return ::poll(&entry, 1, 0) > 0;
}

bool FakeServer::accept_client() {
  const auto until = deadline();
  if (!connection_) {
    received_.clear();
    eof_ = false;
  }
  while (!connection_) {
    pollfd entry{listener_.fd(), POLLIN, 0};
    const int ready = ::poll(&entry, 1, milliseconds_until(until));
    if (ready == 0) return false;
    if (ready < 0 && errno != EINTR) return false;
    if (ready > 0) {
      connection_ = Socket(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    }
  }
  return true;
}

bool FakeServer::receive_once(Clock::time_point until) {
  if (!connection_ || eof_) return false;
  pollfd entry{connection_.fd(), POLLIN, 0};
  const int ready = ::poll(&entry, 1, milliseconds_until(until));
  if (ready < 0) return errno == EINTR;
  if (ready == 0) return false;
  std::array<char, 64 * 1024> buffer{};
  const long got = connection_.receive_some(buffer);
  if (got <= 0) {
    eof_ = got == 0;
    return false;
  }
  received_.append(buffer.data(), static_cast<std::size_t>(got));
  return true;
}

const std::string& FakeServer::receive(std::size_t size) {
  const auto until = deadline();
  while (received_.size() < size && receive_once(until)) {
  }
  return received_;
}

bool FakeServer::wait_for_eof() {
  const auto until = deadline();
  while (receive_once(until)) {
  }
  return eof_;
}

bool FakeServer::send(std::string_view bytes) const { return connection_.send_all(bytes); }

void FakeServer::close() { connection_ = Socket(); }

void FakeServer::reset() {
  const linger abort_on_close{1, 0};
  ::setsockopt(connection_.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  connection_ = Socket();
}

// ---- ChildProcess --------------------------------------------------------------------------

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  ignore_sigpipe_once();
  std::array<int, 2> in{-1, -1}, out{-1, -1}, err{-1, -1};
  if (::pipe2(in.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  UniqueFd child_in(in[0]);
  stdin_ = UniqueFd(in[1]);
  if (::pipe2(out.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  stdout_ = UniqueFd(out[0]);
  UniqueFd child_out(out[1]);
  if (::pipe2(err.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  stderr_ = UniqueFd(err[0]);
  UniqueFd child_err(err[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_in.fd(), 0);
  posix_spawn_file_actions_adddup2(&actions, child_out.fd(), 1);
  posix_spawn_file_actions_adddup2(&actions, child_err.fd(), 2);
  std::vector<char*> args;
  for (const auto& argument : argv) args.push_back(const_cast<char*>(argument.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    throw_errno("posix_spawn " + argv.at(0));
  }
  // Raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C" (fixed in 2.37).
  pidfd_ = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  if (!pidfd_) throw_errno("pidfd_open");
}

ChildProcess::~ChildProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool ChildProcess::write_stdin(std::string_view bytes) {
  return stdin_ && write_all(stdin_.fd(), bytes);
}

void ChildProcess::close_stdin() { stdin_.reset(); }

void ChildProcess::drain(UniqueFd& fd, std::string& into) {
  std::array<char, 64 * 1024> buffer{};
  const ssize_t got = ::read(fd.fd(), buffer.data(), buffer.size());
  if (got > 0) {
    into.append(buffer.data(), static_cast<std::size_t>(got));
  } else if (got == 0 || errno != EINTR) {
    fd.reset();  // end of output
  }
}

bool ChildProcess::pump(Clock::time_point until, bool watch_exit) {
  std::array<pollfd, 3> fds{{{stdout_.fd(), POLLIN, 0},
                             {stderr_.fd(), POLLIN, 0},
                             {watch_exit && !exited_ ? pidfd_.fd() : -1, POLLIN, 0}}};
  const int ready = ::poll(fds.data(), fds.size(), milliseconds_until(until));
  if (ready < 0) return errno == EINTR;
  if (ready == 0) return false;
  if (fds[0].revents != 0) drain(stdout_, out_);
  if (fds[1].revents != 0) drain(stderr_, err_);
  if (fds[2].revents != 0) {
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_) {
      exited_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  return true;
}

const std::string& ChildProcess::read_stdout(std::size_t size) {
  const auto until = deadline();
  while (out_.size() < size && stdout_ && pump(until, false)) {
  }
  return out_;
}

std::optional<int> ChildProcess::wait_exit() {
  const auto until = deadline();
  while ((!exited_ || stdout_ || stderr_) && pump(until, true)) {
  }
  if (!exited_ || stdout_ || stderr_) return std::nullopt;
  return exit_code_;
}

// ---- files ---------------------------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                        "/achat-client-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  return lines;
}

int permissions_of(const std::string& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return -1;
  return static_cast<int>(status.st_mode & 0777);
}

std::optional<std::string> run_command(const std::vector<std::string>& argv) {
  ChildProcess child(argv);
  child.close_stdin();
  const auto code = child.wait_exit();
  if (code != 0) return std::nullopt;
  return child.out();
}

// ---- TmuxSession ---------------------------------------------------------------------------

bool TmuxSession::available() {
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "/usr/bin:/bin";
  while (!directories.empty()) {
    const auto colon = directories.find(':');
    const std::string candidate = std::string(directories.substr(0, colon)) + "/tmux";
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    directories.remove_prefix(colon + 1);
  }
  return false;
}

TmuxSession::TmuxSession(const std::vector<std::string>& command, int width, int height) {
  static std::atomic<int> counter{0};
  socket_name_ = "achat-client-test-" + std::to_string(::getpid()) + "-" +
                 std::to_string(counter.fetch_add(1));
  ::unsetenv("TMUX");  // we may run inside someone's tmux; this server is our own
  // The pane runs a shell that waits for the program, prints its exit status and keeps the
  // pane alive. tmux's own pane-death handling (remain-on-exit) is not used: tmux 3.3 may
  // drop output written just before the exit, and was seen not to reap an exited program.
  std::vector<std::string> arguments{
      "new-session", "-d", "-s", "chat", "-x", std::to_string(width), "-y",
      std::to_string(height), "sh", "-c",
      "\"$0\" \"$@\"; echo \"" + std::string(kExitMarker) + "$?]\"; exec cat >/dev/null"};
  arguments.insert(arguments.end(), command.begin(), command.end());
  started_ = tmux(std::move(arguments)).has_value();
  if (const auto pid = tmux({"display-message", "-p", "-t", "chat", "#{pane_pid}"})) {
    pane_pid_ = static_cast<pid_t>(std::atoi(pid->c_str()));
  }
}

TmuxSession::~TmuxSession() {
  // The pane's shell leads its own process group, which the program shares (sh -c does no job
  // control). SIGKILL it first: the SIGHUP of kill-server alone can leave the program hanging,
  // as libedit's signal handler calls fflush(), which deadlocks under ASan's interceptor when
  // the signal lands inside another fflush().
  if (pane_pid_ > 0) ::kill(-pane_pid_, SIGKILL);
  tmux({"kill-server"});
}

std::optional<std::string> TmuxSession::tmux(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), {"tmux", "-L", socket_name_, "-f", "/dev/null"});
  return run_command(arguments);
}

void TmuxSession::type(std::string_view text) {
  tmux({"send-keys", "-t", "chat", "-l", std::string(text)});
}

void TmuxSession::press(const std::string& key) { tmux({"send-keys", "-t", "chat", key}); }

std::vector<std::string> TmuxSession::screen() {
  return capture({"capture-pane", "-p", "-t", "chat"});
}

std::vector<std::string> TmuxSession::transcript() {
  return capture({"capture-pane", "-p", "-S", "-", "-t", "chat"});
}

std::vector<std::string> TmuxSession::capture(std::vector<std::string> arguments) {
  std::vector<std::string> rows;
  const auto text = tmux(std::move(arguments));
  if (!text) return rows;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    std::string row(rest.substr(0, newline));
    row.erase(row.find_last_not_of(' ') + 1);
    rows.push_back(std::move(row));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  return rows;
}

TmuxSession::Cursor TmuxSession::cursor() {
  Cursor cursor;
  const auto text = tmux({"display-message", "-p", "-t", "chat", "#{cursor_x} #{cursor_y}"});
  if (text) std::sscanf(text->c_str(), "%d %d", &cursor.x, &cursor.y);
  return cursor;
}

std::optional<int> TmuxSession::exit_status() {
  for (const auto& row : transcript()) {
    if (row.starts_with(kExitMarker)) return std::atoi(row.c_str() + kExitMarker.size());
  }
  return std::nullopt;
}

bool TmuxSession::wait_for_screen(
    const std::function<bool(const std::vector<std::string>&)>& condition) {
  const auto until = deadline();
  for (;;) {
    if (condition(screen())) return true;
    if (Clock::now() >= until) return false;
    ::poll(nullptr, 0, 10);  // back off between captures; each one spawns a tmux client
  }
}

bool TmuxSession::wait_for_exit() {
  const auto until = deadline();
  for (;;) {
    if (exit_status()) return true;
    if (Clock::now() >= until) return false;
    ::poll(nullptr, 0, 10);
  }
}

std::string TmuxSession::dump() {
  // tmux 3.3 scrolls the screen into the history when it is cleared from the top row
  // (scroll-on-clear), so the history can hold old copies of rows: show it apart.
  std::string text = "---- history ----\n";
  for (const auto& row : capture({"capture-pane", "-p", "-S", "-", "-E", "-1", "-t", "chat"})) {
    text += row + "\n";
  }
  text += "---- screen ----\n";
  for (const auto& row : screen()) text += row + "\n";
  const auto at = cursor();
  text += "---- cursor at x=" + std::to_string(at.x) + " y=" + std::to_string(at.y) + " ----\n";
  return text;
}

}  // namespace achat::client::testing
