// a-chat-load: end-to-end load generator for the a-chat protocol. One thread, epoll,
// non-blocking sockets, so it leaves the cores to the server. See bench/README.md.
// Exit status: 0 run passed, 1 run failed (protocol violation, server error, lost message,
// deadline), 2 bad command line.
#include <sys/prctl.h>

#include <cstdio>
#include <exception>

#include "churn_run.h"
#include "fd_limit.h"
#include "load_run.h"
#include "options.h"
#include "report.h"

int main(int argc, char** argv) {
  using namespace achat::load;
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const HelpRequested&) {
    std::fputs(usage_text(), stdout);
    return 0;
  } catch (const UsageError& error) {
    std::fprintf(stderr, "a-chat-load: %s\n%s", error.what(), usage_text());
    return 2;
  }

  // Sockets for every client, plus a few for epoll and stdio.
  constexpr std::uint64_t kSpareFds = 16;
  const std::uint64_t fd_limit = raise_open_file_limit();
  if (fd_limit < options.clients + kSpareFds) {
    std::fprintf(stderr, "a-chat-load: %u clients need %llu open files, the hard limit is %llu\n",
                 options.clients, static_cast<unsigned long long>(options.clients + kSpareFds),
                 static_cast<unsigned long long>(fd_limit));
    return 2;
  }

  // Open-loop sends wake on a timer; the default 50 us timer slack would delay every one.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  try {
    const Results results = options.churn ? ChurnRun(options).run() : LoadRun(options).run();
    if (options.json) {
      print_json(stdout, options, results);
    } else {
      print_text(stdout, options, results);
    }
    if (!results.ok) std::fprintf(stderr, "a-chat-load: FAIL: %s\n", results.error.c_str());
    return results.ok ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "a-chat-load: %s\n", error.what());
    return 1;
  }
}
