// a-chat-client: entry point. Parses the command line, connects, and hands the socket to the
// interactive session (stdin and stdout are terminals) or to the piped session (otherwise).
#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <exception>
#include <span>
#include <string>
#include <system_error>

#include "achat/socket.h"
#include "interactive_session.h"
#include "options.h"
#include "piped_session.h"

int main(int argc, char** argv) {
  using namespace achat::client;
  const char* program = "a-chat-client";
  const auto parsed =
      parse_options(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (parsed.error) {
    std::fprintf(stderr, "%s: %s\n", program, parsed.error->c_str());
    return 2;
  }
  if (parsed.options.help) {
    std::fputs(usage_text(program).c_str(), stdout);
    return 0;
  }

  std::setlocale(LC_CTYPE, "");  // libedit and display widths follow the terminal's charset
  try {
    achat::Socket server;
    try {
      server = achat::Socket::connect_to(parsed.options.server);
    } catch (const std::system_error& error) {
      std::fprintf(stderr, "%s: cannot connect to %s: %s\n", program,
                   parsed.options.server.to_string().c_str(), error.code().message().c_str());
      return 1;
    }
    if (::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO)) {
      return InteractiveSession(server, parsed.options.login).run();
    }
    return PipedSession(server, parsed.options.login).run();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", program, error.what());
    return 1;
  }
}
