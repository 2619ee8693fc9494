// a-chat-server: parses options, starts the Server, answers signals, and stops it gracefully on
// SIGINT/SIGTERM. Exit status: 0 after a graceful stop, 1 if it cannot start, 2 for bad options.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <optional>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <string>
#include <string_view>
#include <vector>

#include "ops/log.h"
#include "ops/process_limits.h"
#include "achat/server.h"
#include "server_options.h"
#include "stats_reporter.h"
#include "metrics_server.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStatsLineDue = 0;  // not a signal number

// The signals main answers; blocked in every thread so that only sigtimedwait() sees them.
sigset_t handled_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaddset(&signals, signal);
  return signals;
}

std::vector<std::string> environment_names() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    names.emplace_back(variable.substr(0, variable.find('=')));
  }
  return names;
}

// Waits for the next signal or the next stats line, whichever comes first.
int next_signal(const sigset_t& signals, std::chrono::seconds interval, Clock::time_point& next_stats) {
  while (true) {
    if (interval.count() == 0) {
      const int signal = sigwaitinfo(&signals, nullptr);
      if (signal > 0) return signal;
      continue;  // EINTR
    }
    const auto left = std::max(Clock::duration::zero(), next_stats - Clock::now());
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
    const timespec timeout{static_cast<time_t>(seconds.count()),
                           static_cast<long>(std::chrono::nanoseconds(left - seconds).count())};
    const int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (signal > 0) return signal;
    if (errno == EAGAIN) {
      next_stats = std::max(next_stats + interval, Clock::now());
      return kStatsLineDue;
    }
  }
}

// Serves until SIGINT or SIGTERM; SIGHUP and SIGUSR1 log a stats line on the way.
void serve_until_stopped(achat::Log& log, const achat::Server& server,
                         std::chrono::seconds interval) {
  const sigset_t signals = handled_signals();
  achat::StatsReporter reporter(server);
  auto next_stats = Clock::now() + interval;
  while (true) {
    switch (next_signal(signals, interval, next_stats)) {
      case kStatsLineDue:
        spdlog::info("{}", reporter.line());
        break;
      case SIGHUP:
        if (log.reopen()) {
          spdlog::info("SIGHUP: log reopened; {}", reporter.peek_line());
        } else {
          spdlog::info("SIGHUP: log on stderr, nothing to reopen; {}", reporter.peek_line());
        }
        log.flush();
        break;
      case SIGUSR1:
        spdlog::info("SIGUSR1: {}", reporter.peek_line());
        break;
      case SIGINT:
        spdlog::info("SIGINT: shutting down");
        return;
      default:
        spdlog::info("SIGTERM: shutting down");
        return;
    }
  }
}

int run(achat::ServerOptions& options, achat::Log& log) {
  try {
    for (const auto& name : achat::unknown_environment_variables(environment_names())) {
      spdlog::warn("environment variable {} sets no option (see --help)", name);
    }
    spdlog::info("{}; {}", achat::server_version(), achat::fit_to_process_limits(
        options.config.limits, options.config.web.listen ? achat::kWebClientFds : 1));
    achat::Server server(options.config);
    const achat::Log::DropCounting drops(log, server.stats().log_lines_dropped);
    server.start();  // first: start() joins the cluster, which scrapes read
    // A metrics port that cannot be bound stops the server with a line that names it, logged
    // before the server's summary (the server is destroyed after this returns).
    std::optional<achat::metrics::MetricsServer> metrics;
    if (options.metrics_listen) {
      try {
        metrics.emplace(server, *options.metrics_listen);
      } catch (const std::exception& failure) {
        spdlog::critical("metrics: cannot serve on {} (--metrics-listen): {}",
                         options.metrics_listen->to_string(), failure.what());
        return 1;
      }
    }
    serve_until_stopped(log, server, std::chrono::seconds(options.stats_interval_s));
    metrics.reset();  // before the drain: nothing reads the server while it stops
    server.stop();
  } catch (const std::exception& failure) {
    spdlog::critical("{}", failure.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  auto options = achat::parse_server_options(std::vector<std::string>(argv + 1, argv + argc), error,
                                             [](const char* name) { return std::getenv(name); });
  if (!options) {
    std::fprintf(stderr, "a-chat-server: %s\n", error.c_str());
    return 2;
  }
  if (options->help || options->version) {
    std::fputs(options->help ? achat::server_usage().c_str() : (achat::server_version() + "\n").c_str(),
               stdout);
    return 0;
  }
  // Before any thread starts (the log's worker is the first), so every thread inherits the mask.
  const sigset_t signals = handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    achat::Log log(options->log);
    return run(*options, log);
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "a-chat-server: %s\n", failure.what());
    return 1;
  }
}
