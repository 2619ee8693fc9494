#include "interactive_session.h"

#include <poll.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "io.h"
#include "line_editor.h"

namespace achat::client {

namespace {

constexpr const char* kLoginPrompt = "login: ";

std::string prompt_for(const std::string& login) { return login + "> "; }

// Incoming text may not move the cursor or change the terminal: show control characters as
// "^X" (DEL as "^?"), the way libedit shows them on the prompt line.
std::string printable(std::string_view line) {
  std::string shown;
  shown.reserve(line.size());
  for (char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      shown += '^';
      shown += static_cast<char>(byte ^ 0x40);
    } else {
      shown += c;
    }
  }
  return shown;
}

void print_line(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

InteractiveSession::InteractiveSession(const Socket& server, std::optional<std::string> login)
    : server_(server), login_(std::move(login)) {}

int InteractiveSession::run() {
  End end = End::connection_lost;
  {
    LineEditor editor(login_ ? prompt_for(*login_) : kLoginPrompt);
    if (!login_ || server_.send_all(*login_ + "\n")) end = chat(editor);
    editor.close();
  }
  switch (end) {
    case End::user_left:
      server_.shutdown_write();
      wait_for_server_close();
      return 0;
    case End::server_closed:
      print_rest();
      std::fputs("connection closed by server\n", stderr);
      return 0;
    case End::connection_lost:
      print_rest();
      std::fputs("connection lost\n", stderr);
      return 1;
  }
  return 1;
}

InteractiveSession::End InteractiveSession::chat(LineEditor& editor) {
  for (;;) {
    std::array<pollfd, 2> fds{{{server_.fd(), POLLIN, 0}, {editor.input_fd(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;  // e.g. SIGWINCH, which libedit handles itself
      return End::connection_lost;
    }
    if (fds[0].revents != 0) {
      if (auto end = receive(&editor)) return *end;
    }
    if (fds[1].revents == 0) continue;
    if ((fds[1].revents & POLLIN) == 0) return End::user_left;  // the terminal went away

    auto input = editor.read_key();
    if (!input) continue;
    if (input->end_of_input) return End::user_left;
    std::string line = std::move(input->text);
    if (!login_) {
      if (!line.empty()) {
        if (!server_.send_all(line + "\n")) return End::connection_lost;
        login_ = std::move(line);
      }
      editor.resume(login_ ? prompt_for(*login_) : kLoginPrompt);
      continue;
    }
    if (line == "/quit") return End::user_left;
    if (!line.empty()) {
      if (!server_.send_all(line + "\n")) return End::connection_lost;
      editor.remember(line);
    }
    editor.resume(prompt_for(*login_));
  }
}

std::optional<InteractiveSession::End> InteractiveSession::receive(LineEditor* editor) {
  std::array<char, 16 * 1024> buffer{};
  const long got = server_.receive_some(buffer);
  if (got < 0) return End::connection_lost;
  if (got == 0) return End::server_closed;
  incoming_.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
  while (auto line = incoming_.next_line()) {
    if (editor != nullptr) {
      editor->print_above(printable(*line));
    } else {
      print_line(printable(*line));
    }
  }
  return std::nullopt;
}

void InteractiveSession::print_rest() {
  const std::string rest = incoming_.take_rest();
  if (!rest.empty()) print_line(printable(rest));
}

void InteractiveSession::wait_for_server_close() {
  const auto deadline = std::chrono::steady_clock::now() + kCloseWait;
  while (wait_readable(server_.fd(), deadline)) {
    if (receive(nullptr)) break;
  }
  print_rest();
}

}  // namespace achat::client
