// a-chat-server: parses options, starts the Server, and stops it gracefully on SIGINT/SIGTERM.
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <cstdio>
#include <exception>
#include <optional>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

#include "achat/log.h"
#include "achat/server.h"
#include "achat/server_options.h"
#include "achat/stats_reporter.h"
#include "metrics_server.h"

int main(int argc, char** argv) {
  std::string error;
  auto options = achat::parse_server_options(std::vector<std::string>(argv + 1, argv + argc), error,
                                             [](const char* name) { return std::getenv(name); });
  if (!options) {
    std::fprintf(stderr, "a-chat-server: %s\n", error.c_str());
    return 2;
  }
  if (options->help) {
    std::fputs(achat::server_usage().c_str(), stdout);
    return 0;
  }
  if (!achat::init_logging(options->log_level)) {
    std::fprintf(stderr, "a-chat-server: unknown log level \"%s\"\n", options->log_level.c_str());
    return 2;
  }
  // Blocked before any thread starts, so every thread inherits the mask and only sigwait()
  // below sees these signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    spdlog::info("{}", achat::fit_to_process_limits(options->config.limits));
    achat::Server server(options->config);
    server.start();
    std::optional<achat::metrics::MetricsServer> metrics;
    if (options->metrics_listen) metrics.emplace(server, *options->metrics_listen);
    achat::StatsReporter reporter(server);
    const timespec interval{static_cast<time_t>(options->stats_interval_s), 0};
    int signal = -1;
    while (signal != SIGINT && signal != SIGTERM) {
      signal = options->stats_interval_s > 0 ? sigtimedwait(&stop_signals, nullptr, &interval)
                                             : sigwaitinfo(&stop_signals, nullptr);
      if (signal < 0 && errno == EAGAIN) spdlog::info("{}", reporter.line());
    }
    spdlog::info("{}: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
    metrics.reset();  // before the drain: nothing reads the server while it stops
    server.stop();
  } catch (const std::exception& failure) {
    spdlog::critical("{}", failure.what());
    return 1;
  }
  return 0;
}
