// PipedSession: the non-interactive client. Stdin lines go to the server as they are and
// server lines go to stdout as they are.
//
// Design: two threads. A StdinPump thread copies stdin to the socket while the calling thread
// copies the socket to stdout. The two directions never wait on each other, so a peer that is
// slow to read in one direction cannot stall the other (a single-threaded poll loop would
// need non-blocking sockets and output buffering to promise the same). The calling thread
// owns the end of the session: when the server closes or fails it shuts the socket down
// (which also unblocks a pump stuck in send) and stops and joins the pump.
//
// Owns: the pump thread (through StdinPump) and the memory of the server's last line. Borrows
// the connected socket and descriptors.
// Threads: run() is called once, by one thread.
// Promise: --login NAME is sent before any stdin byte; at end of stdin the socket is
// half-closed and everything the server still sends is printed until it closes. run()
// returns the exit status (exit_status.h): kExitClean when all of stdin was sent and then the
// server closed cleanly; otherwise kExitConnectionFailed, after printing on stderr
// "disconnected by the server: <its notice>" if the server's last line was a disconnect
// notice, or "connection lost" (the connection was reset, or the server closed before stdin
// ended), or nothing more when stdout could not be written.
#pragma once

#include <optional>
#include <string>

#include "achat/socket.h"
#include "disconnect_notice.h"

namespace achat::client {

class PipedSession {
 public:
  PipedSession(const Socket& server, std::optional<std::string> login, int input_fd = 0,
               int output_fd = 1, int error_fd = 2);

  int run();

 private:
  enum class End { server_closed, connection_lost, output_failed };
  End copy_server_to_output();

  const Socket& server_;
  std::optional<std::string> login_;
  int input_fd_;
  int output_fd_;
  int error_fd_;
  LastServerLine last_line_;
};

}  // namespace achat::client
