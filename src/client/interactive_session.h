// InteractiveSession: the terminal client. Asks for the login first (unless one was given),
// then connects, so the server's login deadline never runs while a person types; chats through
// a Conversation; when the server refuses the login, asks for another and reconnects; when a
// cluster cannot confirm the login (at login or later), asks again with the same login filled
// in, so Enter retries it.
//
// Owns: the LineEditor for the whole session (so the history and a half-typed line carry over
// a reconnect), the History, and each connection's socket while it lasts.
// Threads: run() is called once, by the main thread, which is the only one that touches the
// terminal or the socket.
// Promise: run() returns the exit status (exit_status.h): kExitClean after /quit, Ctrl-D or a
// closed terminal (also at the login prompt, before any connection); kExitConnectionFailed
// after a failed connect ("a-chat-client: cannot connect to ..." on stderr), a lost
// connection, or a disconnect notice other than a login refusal or "cluster unavailable". The
// line being typed when a login is refused is offered again after the next login.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "achat/socket.h"
#include "history.h"

namespace achat::client {

class LineEditor;

class InteractiveSession {
 public:
  InteractiveSession(Endpoint server, std::optional<std::string> login, History history);

  int run();

 private:
  // Shows "login: " (followed by `offered`, editable) until a non-empty line is entered;
  // nullopt on Ctrl-D or a closed terminal.
  static std::optional<std::string> ask_login(LineEditor& editor, std::string_view offered);
  void load_history(LineEditor& editor);

  Endpoint server_;
  std::optional<std::string> login_;
  History history_;
};

}  // namespace achat::client
