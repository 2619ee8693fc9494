#include "piped_session.h"

#include <array>
#include <string_view>
#include <utility>

#include "exit_status.h"
#include "io.h"
#include "stdin_pump.h"

namespace achat::client {

PipedSession::PipedSession(const Socket& server, std::optional<std::string> login, int input_fd,
                           int output_fd, int error_fd)
    : server_(server),
      login_(std::move(login)),
      input_fd_(input_fd),
      output_fd_(output_fd),
      error_fd_(error_fd) {}

int PipedSession::run() {
  End end = End::connection_lost;
  bool sent_everything = false;
  if (!login_ || server_.send_all(*login_ + "\n")) {
    StdinPump pump(input_fd_, server_);
    end = copy_server_to_output();
    sent_everything = pump.finished();
    server_.shutdown_both();  // unblocks a pump waiting in send
    pump.stop();
  }  // the pump thread is joined here
  if (end == End::output_failed) return kExitConnectionFailed;
  if (const auto notice = last_line_.disconnect_notice()) {
    write_all(error_fd_, "disconnected by the server: " + *notice + "\n");
    return kExitConnectionFailed;
  }
  if (end == End::server_closed && sent_everything) return kExitClean;
  write_all(error_fd_, "connection lost\n");
  return kExitConnectionFailed;
}

PipedSession::End PipedSession::copy_server_to_output() {
  std::array<char, 16 * 1024> buffer{};
  bool at_line_start = true;
  for (;;) {
    const long got = server_.receive_some(buffer);
    if (got < 0) return End::connection_lost;
    if (got == 0) {
      // A last line without '\n' is still printed as a line.
      if (!at_line_start && !write_all(output_fd_, "\n")) return End::output_failed;
      return End::server_closed;
    }
    const std::string_view bytes(buffer.data(), static_cast<std::size_t>(got));
    last_line_.feed(bytes);
    if (!write_all(output_fd_, bytes)) return End::output_failed;
    at_line_start = bytes.back() == '\n';
  }
}

}  // namespace achat::client
