// The server's command line: every limit as a named option with its range and default in --help.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ops/log.h"
#include "achat/server.h"

namespace achat {

struct ServerOptions {
  ServerConfig config;
  LogSettings log;
  unsigned stats_interval_s = 60;  // 0: no periodic stats line
  std::optional<Endpoint> metrics_listen;  // HTTP /metrics and /connz; none: not served
  bool help = false;
  bool version = false;
};

// Looks up an environment variable; nullptr if unset.
using EnvironmentLookup = std::function<const char*(const char*)>;

// Parses argv (without argv[0]): `[HOST:PORT] [--name=value | --name value | --flag]...`.
// Every option can also come from the environment as ACHAT_NAME (upper case, '-' as '_'; the
// address as ACHAT_LISTEN); the command line wins. Every number is checked against its range.
// Returns nullopt and sets `error` to a one-line message on bad input: it names the option and
// what it accepts, and for a bad environment variable starts with `ACHAT_NAME=value: `.
std::optional<ServerOptions> parse_server_options(const std::vector<std::string>& args,
                                                  std::string& error,
                                                  const EnvironmentLookup& environment = {});
std::string server_usage();
// "a-chat-server 0.1.0": the meson project version.
std::string server_version();

// The names in `names` (environment variable names) that start with ACHAT_ but set no option:
// most likely typos, worth a warning.
std::vector<std::string> unknown_environment_variables(const std::vector<std::string>& names);

}  // namespace achat
