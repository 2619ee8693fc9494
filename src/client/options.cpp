#include "options.h"

#include <algorithm>

namespace achat::client {

namespace {

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

}  // namespace

ParsedOptions parse_options(std::span<const char* const> arguments) {
  ParsedOptions result;
  bool have_endpoint = false;
  bool options_done = false;
  auto fail = [&result](std::string message) {
    result.error = std::move(message);
    return result;
  };
  auto set_login = [&](std::string_view name) -> bool {
    if (name.empty()) {
      result.error = "--login needs a non-empty NAME";
      return false;
    }
    if (has_control_character(name)) {
      result.error = "--login NAME must not contain control characters";
      return false;
    }
    result.options.login = std::string(name);
    return true;
  };

  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string_view argument = arguments[i] ? arguments[i] : "";
    if (!options_done && argument == "--") {
      options_done = true;
    } else if (!options_done && (argument == "--help" || argument == "-h")) {
      result.options.help = true;
      return result;
    } else if (!options_done && (argument == "--version" || argument == "-V")) {
      result.options.version = true;
      return result;
    } else if (!options_done && argument == "--login") {
      if (i + 1 >= arguments.size()) return fail("--login needs a NAME");
      if (!set_login(arguments[++i] ? arguments[i] : "")) return result;
    } else if (!options_done && argument.starts_with("--login=")) {
      if (!set_login(argument.substr(8))) return result;
    } else if (!options_done && argument.starts_with("-") && argument.size() > 1) {
      return fail("unknown option " + std::string(argument) + " (see --help)");
    } else if (have_endpoint) {
      return fail("unexpected argument '" + std::string(argument) +
                  "': only one HOST:PORT may be given");
    } else {
      auto endpoint = Endpoint::parse(argument);
      if (!endpoint) return fail(Endpoint::bad_address_error(argument));
      result.options.server = std::move(*endpoint);
      have_endpoint = true;
    }
  }
  return result;
}

std::string usage_text(std::string_view program) {
  std::string text = "usage: ";
  text += program;
  text +=
      " [HOST:PORT] [--login NAME] [--help] [--version | -V]\n"
      "\n"
      "Connects to an a-chat server (default 127.0.0.1:8080). HOST:PORT may be\n"
      "localhost:8080 (a host name), 10.0.0.7:8080, [::1]:8080 (IPv6) or :8080 (localhost).\n"
      "  --login NAME   your login (otherwise: on a terminal you are asked for it before\n"
      "                 connecting; from a pipe the first line is the login)\n"
      "  --help, -h     show this text\n"
      "  --version, -V  show the version\n"
      "\n"
      "Send with 'alice, bob: hello'; '/who' asks who is online. On a terminal, /help\n"
      "lists these, leave with /quit or Ctrl-D; if your login is taken you are asked for\n"
      "another. Sent lines are kept for the Up key in\n"
      "$XDG_STATE_HOME/a-chat/history (default ~/.local/state/a-chat/history).\n"
      "When stdin or stdout is not a terminal, lines are copied as they are: stdin to the\n"
      "server, server to stdout; at the end of stdin the client waits for the server to close.\n"
      "\n"
      "Exit status:\n"
      "  0  you quit (/quit, Ctrl-D), or stdin ended, everything was sent and the\n"
      "     connection closed cleanly\n"
      "  1  the connection failed: refused, lost (\"connection lost\"), or closed by the\n"
      "     server with a reason (\"error: ...\": login taken, server full, line too long,\n"
      "     server shutting down)\n"
      "  2  bad command line\n";
  return text;
}

}  // namespace achat::client
