#include "piped_session.h"

#include <array>
#include <string_view>
#include <utility>

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
  if (!login_ || server_.send_all(*login_ + "\n")) {
    StdinPump pump(input_fd_, server_);
    end = copy_server_to_output();
    server_.shutdown_both();  // unblocks a pump waiting in send
    pump.stop();
  }  // the pump thread is joined here
  switch (end) {
    case End::server_closed:
      return 0;
    case End::connection_lost:
      write_all(error_fd_, "connection lost\n");
      return 1;
    case End::output_failed:
      return 1;
  }
  return 1;
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
    if (!write_all(output_fd_, bytes)) return End::output_failed;
    at_line_start = bytes.back() == '\n';
  }
}

}  // namespace achat::client
