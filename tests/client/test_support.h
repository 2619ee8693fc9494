// Test doubles and drivers for the a-chat-client tests: a scripted fake server, the real
// client binary as a child process with piped stdio, and a private tmux server for the
// interactive client. Every wait is a poll() on a condition with a deadline, never a sleep.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "achat/socket.h"
#include "achat/unique_fd.h"

namespace achat::client::testing {

using Clock = std::chrono::steady_clock;

// How long any single expected event may take before the test fails (generous: CI machines
// are shared and sanitizer builds are slow). Passing tests never wait this long.
Clock::time_point deadline();

// Path of the client binary under test, from $ACHAT_CLIENT_EXE (set by tests/client/meson.build).
std::string client_path();

// FakeServer: a loopback listening socket on a free port that accepts one connection at a
// time, records every byte received on it and sends scripted bytes.
// Owns: the listening socket and the accepted connection. Test thread only (one thread at a
// time; send() may run on a helper thread while no other member is used concurrently).
// Promise: received() holds exactly the bytes received so far on the current connection, in
// order.
class FakeServer {
 public:
  FakeServer();

  std::uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"

  // Waits for the client to connect; false on timeout. After close() or reset(), accepts the
  // next connection, and received() starts empty again.
  bool accept_client();
  // True if a connection is waiting to be accepted right now (no waiting).
  bool has_pending_client() const;
  // Receives until at least `size` bytes have arrived in total, the client half-closes, or the
  // deadline passes. Returns everything received so far.
  const std::string& receive(std::size_t size);
  // Receives until the client half-closes (recv() returns 0); false on timeout or error.
  bool wait_for_eof();
  bool saw_eof() const { return eof_; }
  const std::string& received() const { return received_; }

  bool send(std::string_view bytes) const;
  void close();  // orderly close (FIN)
  void reset();  // abortive close (RST): SO_LINGER 0, then close

 private:
  // One poll()+recv() round; false on timeout, error or EOF.
  bool receive_once(Clock::time_point until);

  Socket listener_;
  Socket connection_;
  std::uint16_t port_ = 0;
  std::string received_;
  bool eof_ = false;
};

// ChildProcess: a program started with stdin, stdout and stderr connected to pipes.
// Owns: the child (killed with SIGKILL and reaped by the destructor if still running), a
// pidfd for it, and the parent's ends of the three pipes.
// Threads: one thread at a time, except that write_stdin()/close_stdin() may run on a helper
// thread while another thread reads output (they touch only the stdin pipe).
// Promise: out() and err() hold exactly what the child wrote so far, in order.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  bool write_stdin(std::string_view bytes);
  void close_stdin();

  // Reads output until out() has at least `size` bytes, stdout ends, or the deadline passes.
  const std::string& read_stdout(std::size_t size);
  // Reads output until the child has exited and closed its output. The exit code (128+N for
  // signal N), or nullopt on timeout.
  std::optional<int> wait_exit();

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  // Polls stdout, stderr and (if `watch_exit`) the pidfd once; false on timeout.
  bool pump(Clock::time_point until, bool watch_exit);
  void drain(UniqueFd& fd, std::string& into);

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  std::string out_;
  std::string err_;
  bool exited_ = false;
  int exit_code_ = -1;
};

// TempDir: a fresh private directory (mkdtemp under $TMPDIR or /tmp), removed with everything
// in it by the destructor. Test thread only.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The lines of a file without their '\n' (empty if it cannot be read).
std::vector<std::string> read_lines(const std::string& path);
// The permission bits of a file or directory (st_mode & 0777), or -1 if it does not exist.
int permissions_of(const std::string& path);

// Runs a short command to completion; its stdout, or nullopt if it failed or timed out.
std::optional<std::string> run_command(const std::vector<std::string>& argv);

// TmuxSession: one detached session on a private tmux server (tmux -L <unique name>) whose
// pane runs the program under a shell that prints "[exited with status N]" when it ends.
// Owns: the private tmux server and the pane's processes; the destructor kills both (the
// program with SIGKILL, so even one stuck in a signal handler is gone).
// Threads: test thread only.
class TmuxSession {
 public:
  struct Cursor {
    int x = -1;
    int y = -1;
  };

  static constexpr std::string_view kExitMarker = "[exited with status ";

  static bool available();  // tmux is on PATH

  TmuxSession(const std::vector<std::string>& command, int width, int height);
  TmuxSession(const TmuxSession&) = delete;
  TmuxSession& operator=(const TmuxSession&) = delete;
  ~TmuxSession();

  bool started() const { return started_; }
  void type(std::string_view text);     // send-keys -l: literal text, no Enter
  void press(const std::string& key);  // send-keys KEY: "Enter", "Left", "C-d", ...

  // The visible screen, one string per row, trailing blanks removed.
  std::vector<std::string> screen();
  // The scrollback history followed by the visible screen.
  std::vector<std::string> transcript();
  Cursor cursor();
  std::optional<int> exit_status();  // set once the program has exited (128+N for signal N)

  // Re-captures the screen until `condition` holds or the deadline passes.
  bool wait_for_screen(const std::function<bool(const std::vector<std::string>&)>& condition);
  bool wait_for_exit();
  std::string dump();  // screen and cursor, for failure messages

 private:
  std::optional<std::string> tmux(std::vector<std::string> arguments);
  std::vector<std::string> capture(std::vector<std::string> arguments);

  std::string socket_name_;
  bool started_ = false;
  pid_t pane_pid_ = -1;  // the shell in the pane, leader of its process group
};

}  // namespace achat::client::testing
