// a-chat-client: entry point. Parses the command line, then runs the interactive session
// (stdin and stdout are terminals: it asks for the login, then connects) or connects and runs
// the piped session (otherwise). Exit statuses: exit_status.h.
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>

#include "exit_status.h"
#include "history.h"
#include "interactive_session.h"
#include "io.h"
#include "options.h"
#include "piped_session.h"

#ifndef ACHAT_VERSION
#error "ACHAT_VERSION (the meson project version) must be defined"
#endif

int main(int argc, char** argv) {
  using namespace achat::client;
  const auto parsed =
      parse_options(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (parsed.error) {
    std::fprintf(stderr, "%s: %s\n", kProgramName, parsed.error->c_str());
    return kExitUsage;
  }
  if (parsed.options.help) {
    std::fputs(usage_text(kProgramName).c_str(), stdout);
    return kExitClean;
  }
  if (parsed.options.version) {
    std::printf("%s %s\n", kProgramName, ACHAT_VERSION);
    return kExitClean;
  }

  std::setlocale(LC_CTYPE, "");  // libedit and display widths follow the terminal's charset
  try {
    if (::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) {
      // The login is asked before connecting; a host that does not resolve is told first.
      if (const auto failure = resolve_failure(parsed.options.server)) {
        std::fprintf(stderr, "%s: %s\n", kProgramName, failure->c_str());
        return kExitConnectionFailed;
      }
      History history(History::default_path([](const char* name) { return std::getenv(name); }));
      return InteractiveSession(parsed.options.server, parsed.options.login, std::move(history))
          .run();
    }
    std::string failure;
    const auto server = connect_to_server(parsed.options.server, failure);
    if (!server) {
      std::fprintf(stderr, "%s: %s\n", kProgramName, failure.c_str());
      return kExitConnectionFailed;
    }
    return PipedSession(*server, parsed.options.login).run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", kProgramName, error.what());
    return kExitConnectionFailed;
  }
}
