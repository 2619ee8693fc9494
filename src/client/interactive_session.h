// InteractiveSession: the terminal client. One thread runs a poll() loop over the terminal
// (fed key by key to the LineEditor) and the socket (whose lines are printed above the prompt).
//
// Owns: the LineEditor while chatting and the reassembly of incoming lines. Borrows the
// connected socket.
// Threads: run() is called once, by the main thread, which is the only one that touches the
// terminal or the socket.
// Promise: asks for the login ("login: ") unless one was given, then sends each entered
// non-empty line; incoming lines never garble the line being typed (control characters in
// them are shown as ^X). /quit or Ctrl-D half-closes the socket, prints what the server still
// sends until it closes or a short deadline passes, and run() returns 0. A server that closes
// cleanly ends the session with 0 too ("connection closed by server" on stderr); a reset or
// failed connection prints "connection lost" on stderr and run() returns 1.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "achat/socket.h"
#include "line_splitter.h"

namespace achat::client {

class LineEditor;

class InteractiveSession {
 public:
  // How long /quit and Ctrl-D wait for the server to close after the half-close.
  static constexpr std::chrono::milliseconds kCloseWait{2000};

  InteractiveSession(const Socket& server, std::optional<std::string> login);

  int run();

 private:
  enum class End { user_left, server_closed, connection_lost };

  End chat(LineEditor& editor);
  // Reads what the socket has; prints complete lines. nullopt while the connection is open.
  std::optional<End> receive(LineEditor* editor);
  void print_rest();
  void wait_for_server_close();

  const Socket& server_;
  std::optional<std::string> login_;
  LineSplitter incoming_;
};

}  // namespace achat::client
