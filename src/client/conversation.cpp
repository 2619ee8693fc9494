#include "conversation.h"

#include <poll.h>

#include <array>
#include <cerrno>
#include <utility>

#include "display.h"
#include "history.h"
#include "io.h"
#include "line_editor.h"

namespace achat::client {

namespace {

std::string prompt_for(const std::string& login) { return login + "> "; }

// What /help shows; it is the client's own and never reaches the server.
constexpr std::string_view kHelpLines[] = {
    "alice, bob: hello   send 'hello' to alice and bob (they see 'from <you>: hello')",
    "/who                ask the server who is online",
    "/help               show this help (only you see it)",
    "/quit or Ctrl-D     leave",
};

}  // namespace

Conversation::Conversation(const Socket& server, LineEditor& editor, History& history)
    : server_(server), editor_(editor), history_(history) {}

Conversation::Result Conversation::chat(const std::string& login, std::string_view draft) {
  if (!server_.send_all(login + "\n")) {
    receive_until_closed();
    return ended(std::string(draft));
  }
  editor_.resume(prompt_for(login), draft);
  for (;;) {
    std::array<pollfd, 2> fds{{{server_.fd(), POLLIN, 0}, {editor_.input_fd(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;  // e.g. SIGWINCH, which libedit handles itself
      return ended({});
    }
    if (fds[0].revents != 0 && receive()) return ended({});
    if (fds[1].revents == 0) continue;
    if ((fds[1].revents & POLLIN) == 0) return {End::user_left, {}};  // the terminal went away

    auto input = editor_.read_key();
    if (!input) continue;
    if (input->end_of_input) return {End::user_left, {}};
    std::string line = std::move(input->text);
    if (line == "/quit") return {End::user_left, {}};
    if (line == "/help") {
      for (const std::string_view help : kHelpLines) editor_.print_above(help);
      editor_.resume(prompt_for(login));
      record(line);
      continue;
    }
    if (!line.empty() && !server_.send_all(line + "\n")) {
      // The connection broke; the server may have said why just before.
      receive_until_closed();
      return ended(std::move(line));
    }
    editor_.resume(prompt_for(login));
    if (!line.empty()) record(line);
  }
}

void Conversation::finish() {
  editor_.close();
  server_.shutdown_write();
  receive_until_closed();
  const std::string rest = incoming_.take_rest();
  if (!rest.empty()) editor_.print_above(printable(rest));
}

bool Conversation::receive() {
  std::array<char, 16 * 1024> buffer{};
  const long got = server_.receive_some(buffer);
  if (got <= 0) return true;
  const std::string_view bytes(buffer.data(), static_cast<std::size_t>(got));
  last_line_.feed(bytes);
  incoming_.feed(bytes);
  while (auto line = incoming_.next_line()) editor_.print_above(printable(*line));
  return false;
}

void Conversation::receive_until_closed() {
  const auto deadline = std::chrono::steady_clock::now() + kCloseWait;
  while (wait_readable(server_.fd(), deadline) && !receive()) {
  }
}

Conversation::Result Conversation::ended(std::string unsent) {
  const std::string rest = incoming_.take_rest();
  if (!rest.empty()) editor_.print_above(printable(rest));
  const auto notice = last_line_.disconnect_notice();
  End end = End::connection_lost;
  if (notice && is_login_refusal(*notice)) {
    end = End::login_refused;
  } else if (notice && is_cluster_unavailable(*notice)) {
    end = End::cluster_unavailable;
    editor_.print_above(kClusterUnavailable);
  } else if (notice) {
    end = End::server_disconnected;
    editor_.print_above("disconnected by the server");
  } else {
    editor_.print_above("connection lost");
  }
  std::string typed = editor_.abandon();
  return {end, unsent.empty() ? std::move(typed) : std::move(unsent)};
}

void Conversation::record(const std::string& line) {
  editor_.remember(line);
  if (auto warning = history_.add(line)) editor_.print_above("warning: " + *warning);
}

}  // namespace achat::client
