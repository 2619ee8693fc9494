// The server's command line: every limit as a named option, with its default in --help.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "achat/server.h"

namespace achat {

struct ServerOptions {
  ServerConfig config;
  std::string log_level = "info";
  unsigned stats_interval_s = 60;  // 0: no periodic stats line
  std::optional<Endpoint> metrics_listen;  // HTTP /metrics and /connz; none: not served
  bool help = false;
};

// Looks up an environment variable; nullptr if unset.
using EnvironmentLookup = std::function<const char*(const char*)>;

// Parses argv (without argv[0]): `[HOST:PORT] [--name=value | --name value]...`. Every option
// can also come from the environment as ACHAT_NAME (upper case, '-' as '_'; the address as
// ACHAT_LISTEN); the command line wins. Returns nullopt and sets `error` to a one-line message
// on bad input.
std::optional<ServerOptions> parse_server_options(const std::vector<std::string>& args,
                                                  std::string& error,
                                                  const EnvironmentLookup& environment = {});
std::string server_usage();

// Raises the fd soft limit to the hard limit; returns the new soft limit.
std::size_t raise_fd_limit();

// Raises the fd soft limit to the hard limit, then sizes max_clients (if 0) from the limits on
// fds, threads and memory maps this process can actually get. Returns a line for the log.
std::string fit_to_process_limits(Limits& limits);

}  // namespace achat
