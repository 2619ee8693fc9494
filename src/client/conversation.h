// Conversation: one connection of the interactive client, from the login it sends to the end
// of the connection. A poll() loop over the socket (whose lines are printed above the prompt)
// and the terminal (fed key by key to the LineEditor).
//
// Owns: the reassembly of incoming lines and the memory of the server's last line. Borrows the
// connected socket, the LineEditor and the History, which outlive it.
// Threads: the main thread only, which alone touches the terminal and the socket.
// Promise: sends the login, then each entered non-empty line except /quit, and records each
// sent line in the history (a history failure is printed as one "warning: " line and changes
// nothing else). Incoming lines are shown with printable(). When the server ends the
// connection its last lines are shown, then "disconnected by the server" if it sent a
// disconnect notice or "connection lost" if not (nothing more for a login refusal, which the
// caller answers by asking for another login; for a cluster that cannot confirm logins,
// kClusterUnavailable, and the caller offers the same login again); the half-typed line then
// stays on screen below them and is handed back.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "achat/socket.h"
#include "disconnect_notice.h"
#include "line_splitter.h"

namespace achat::client {

class History;
class LineEditor;

class Conversation {
 public:
  enum class End { user_left, login_refused, cluster_unavailable, server_disconnected, connection_lost };
  static constexpr const char* kClusterUnavailable =
      "the cluster cannot confirm logins right now: press Enter to log in again";
  struct Result {
    End end = End::connection_lost;
    std::string unsent;  // typed or entered but never sent: the caller may offer it again
  };

  // How long finish() waits for the server to close after the half-close, and how long a
  // failed send waits for the server's reason.
  static constexpr std::chrono::milliseconds kCloseWait{2000};

  Conversation(const Socket& server, LineEditor& editor, History& history);

  // Sends `login`, shows its prompt (followed by `draft` if the editor is not already editing)
  // and chats until the user leaves (/quit, Ctrl-D, the terminal goes away) or the connection
  // ends.
  Result chat(const std::string& login, std::string_view draft);
  // After End::user_left: closes the editor, half-closes the socket, and prints what the
  // server still sends until it closes or kCloseWait passes.
  void finish();

 private:
  // Reads once from the socket and prints the complete lines. True once the connection ended.
  bool receive();
  // Receives until the connection ends or kCloseWait passes.
  void receive_until_closed();
  Result ended(std::string unsent);
  void record(const std::string& line);

  const Socket& server_;
  LineEditor& editor_;
  History& history_;
  LineSplitter incoming_;
  LastServerLine last_line_;
};

}  // namespace achat::client
