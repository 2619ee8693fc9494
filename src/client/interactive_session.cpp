#include "interactive_session.h"

#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <utility>
#include <vector>

#include "conversation.h"
#include "exit_status.h"
#include "io.h"
#include "line_editor.h"

namespace achat::client {

namespace {

constexpr const char* kLoginPrompt = "login: ";

}  // namespace

InteractiveSession::InteractiveSession(Endpoint server, std::optional<std::string> login,
                                       History history)
    : server_(std::move(server)), login_(std::move(login)), history_(std::move(history)) {}

int InteractiveSession::run() {
  LineEditor editor(login_ ? *login_ + "> " : kLoginPrompt);
  load_history(editor);
  std::string draft;
  std::string retry;  // a login the cluster could not confirm: offered again at the prompt
  for (;;) {
    if (!login_) login_ = ask_login(editor, std::exchange(retry, {}));
    if (!login_) return kExitClean;

    std::string failure;
    const auto server = connect_to_server(server_, failure);
    if (!server) {
      editor.close();
      std::fprintf(stderr, "%s: %s\n", kProgramName, failure.c_str());
      return kExitConnectionFailed;
    }
    Conversation conversation(*server, editor, history_);
    auto result = conversation.chat(*login_, draft);
    switch (result.end) {
      case Conversation::End::user_left:
        conversation.finish();
        return kExitClean;
      case Conversation::End::login_refused:
        login_.reset();
        draft = std::move(result.unsent);
        continue;
      case Conversation::End::cluster_unavailable:
        retry = std::move(*login_);
        login_.reset();
        draft = std::move(result.unsent);
        continue;
      case Conversation::End::server_disconnected:
      case Conversation::End::connection_lost:
        return kExitConnectionFailed;
    }
  }
}

std::optional<std::string> InteractiveSession::ask_login(LineEditor& editor, std::string_view offered) {
  editor.resume(kLoginPrompt, offered);
  for (;;) {
    pollfd terminal{editor.input_fd(), POLLIN, 0};
    if (::poll(&terminal, 1, -1) < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if ((terminal.revents & POLLIN) == 0) return std::nullopt;  // the terminal went away
    auto input = editor.read_key();
    if (!input) continue;
    if (input->end_of_input) return std::nullopt;
    if (!input->text.empty()) return std::move(input->text);
    editor.resume(kLoginPrompt);
  }
}

void InteractiveSession::load_history(LineEditor& editor) {
  editor.keep_at_most(History::kMaxEntries);
  std::vector<std::string> entries;
  const auto warning = history_.load(entries);
  for (const auto& entry : entries) editor.remember(entry);
  if (warning) editor.print_above("warning: " + *warning);
}

}  // namespace achat::client
