#include "server_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <set>
#include <string_view>
#include <type_traits>

#include "achat/protocol.h"
#include "cluster/claim_record.h"
#include "default_node_id.h"
#include "server/limit_conflicts.h"

#ifndef ACHAT_VERSION
#error "ACHAT_VERSION (the meson project version) must be defined"
#endif

namespace achat {

namespace {

// Every value an option reads is a number in a range or a piece of text; a bad one is a
// "problem" completed into an error by where it came from (command line or environment).
using Problem = std::optional<std::string>;

struct NumberOption {
  const char* name;
  const char* help;
  std::uint64_t min;
  std::uint64_t max;
  std::uint64_t (*get)(const ServerOptions&);
  void (*set)(ServerOptions&, std::uint64_t);
};

template <auto field>
constexpr NumberOption limit(const char* name, const char* help, std::uint64_t min,
                             std::uint64_t max) {
  using Field = std::remove_cvref_t<decltype(Limits{}.*field)>;
  return {name, help, min, max,
          [](const ServerOptions& options) -> std::uint64_t { return options.config.limits.*field; },
          [](ServerOptions& options, std::uint64_t value) {
            options.config.limits.*field = static_cast<Field>(value);
          }};
}

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;
constexpr std::uint64_t kHourMs = 3'600'000;

// Minimums: the smallest value that still works (a stack glibc can start a thread on, a read
// no smaller than the first one, a line that holds a login); maximums: far beyond any sane use,
// low enough that a typo (an extra digit or three) is caught instead of exhausting memory.
const NumberOption kNumbers[] = {
    limit<&Limits::max_line_bytes>("max-line-bytes", "longest line a client may send", 64,
                                   64 * kMiB),
    limit<&Limits::max_login_bytes>("max-login-bytes", "longest login", 1, 1024),
    limit<&Limits::who_max>("who-max", "most names one \"online:\" reply to /who lists", 1,
                            1'000'000),
    limit<&Limits::max_recipients>("max-recipients", "most names in one recipient list", 1,
                                   100'000),
    limit<&Limits::max_outbound_bytes>(
        "max-outbound-bytes", "bytes queued for one client before it is cut as a slow consumer",
        4 * kKiB, 4 * kGiB),
    limit<&Limits::max_queued_bytes>(
        "max-queued-bytes",
        "bytes queued for all clients together; past it the largest backlog is cut (0 = a quarter "
        "of physical memory, at most 4 GiB)",
        0, 1024 * kGiB),
    limit<&Limits::max_error_bytes>("max-error-bytes",
                                    "unread error replies a client may have before it is cut",
                                    1 * kKiB, 64 * kMiB),
    limit<&Limits::max_unrouted_bytes>(
        "max-unrouted-bytes", "bytes one reader may have waiting for the broker before it pauses",
        4 * kKiB, kGiB),
    limit<&Limits::max_clients>("max-clients",
                                "connections served at once, 0 = sized from process limits", 0,
                                1'000'000),
    limit<&Limits::login_timeout_ms>("login-timeout-ms",
                                     "time a new connection has to send its login", 10, kHourMs),
    limit<&Limits::write_stall_ms>(
        "write-stall-ms", "time a client with lines pending may go without reading before it is cut",
        10, kHourMs),
    limit<&Limits::web_idle_timeout_ms>(
        "web-idle-timeout-ms",
        "time a WebSocket client may send nothing before it is cut; pinged at half of it", 1000,
        kHourMs),
    // The kernel's own caps: TCP_KEEPIDLE and TCP_KEEPINTVL 32767 s, TCP_KEEPCNT 127.
    limit<&Limits::keepalive_idle_s>("keepalive-idle-s",
                                     "idle time before the first TCP keepalive probe", 1, 32'767),
    limit<&Limits::keepalive_interval_s>("keepalive-interval-s",
                                         "time between TCP keepalive probes", 1, 32'767),
    limit<&Limits::keepalive_probes>(
        "keepalive-probes", "unanswered keepalive probes before a connection is dropped", 1, 127),
    limit<&Limits::drain_timeout_ms>(
        "drain-timeout-ms", "time writers get to deliver on shutdown before connections are cut",
        0, kHourMs),
    limit<&Limits::thread_stack_bytes>("thread-stack-bytes",
                                       "stack size of each reader and writer thread", 32 * kKiB,
                                       kGiB),
    limit<&Limits::thread_cache>(
        "thread-cache",
        "reader and writer threads kept parked for new connections after theirs ended (0 = none)",
        0, 2'000'000),
    limit<&Limits::thread_prestart>(
        "thread-prestart",
        "threads started with the server and kept parked for connections (at most --thread-cache)",
        0, 2'000'000),
    limit<&Limits::read_chunk_bytes>("read-chunk-bytes", "bytes per recv() call", 256, kMiB),
    limit<&Limits::broker_spin_us>(
        "broker-spin-us", "longest the broker polls an empty inbox before it sleeps (adaptive)", 0,
        1'000'000),
    {"stats-interval", "seconds between stats lines in the log, 0 = none", 0, 86'400,
     [](const ServerOptions& options) -> std::uint64_t { return options.stats_interval_s; },
     [](ServerOptions& options, std::uint64_t value) {
       options.stats_interval_s = static_cast<unsigned>(value);
     }},
    {"log-queue-lines",
     "log lines queued for the log's writer; when full the oldest is dropped and counted", 16,
     1'048'576,
     [](const ServerOptions& options) -> std::uint64_t { return options.log.queue_lines; },
     [](ServerOptions& options, std::uint64_t value) {
       options.log.queue_lines = static_cast<std::size_t>(value);
     }},
    {"claim-ttl-ms", "in a cluster: how long a crashed node's logins stay taken", 300, kHourMs,
     [](const ServerOptions& options) -> std::uint64_t { return options.config.cluster.claim_ttl_ms; },
     [](ServerOptions& options, std::uint64_t value) {
       options.config.cluster.claim_ttl_ms = static_cast<unsigned>(value);
     }},
    // JetStream allows at most 5 replicas.
    {"claim-replicas",
     "in a cluster: copies of the logins bucket on the NATS servers (0 = 3 if at least three "
     "servers are listed, else 1)",
     0, 5,
     [](const ServerOptions& options) -> std::uint64_t { return options.config.cluster.claim_replicas; },
     [](ServerOptions& options, std::uint64_t value) {
       options.config.cluster.claim_replicas = static_cast<unsigned>(value);
     }},
    {"node-silence-ms",
     "in a cluster: a node not heard from for this long has its users shown as not online", 300,
     kHourMs,
     [](const ServerOptions& options) -> std::uint64_t { return options.config.cluster.node_silence_ms; },
     [](ServerOptions& options, std::uint64_t value) {
       options.config.cluster.node_silence_ms = static_cast<unsigned>(value);
     }},
};

// "nats://a:4222,nats://b:4222" as a list; false if any entry is not a nats:// URL.
bool parse_cluster_urls(const std::string& text, std::vector<std::string>& urls) {
  urls.clear();
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string url = text.substr(start, comma - start);
    if (url.rfind("nats://", 0) != 0 || url.size() == 7) return false;
    urls.push_back(url);
    start = comma + 1;
  }
  return true;
}

struct TextOption {
  const char* name;
  const char* usage;  // left column of --help
  const char* help;
  Problem (*apply)(ServerOptions&, const std::string&);
};

const TextOption kTexts[] = {
    {"log-level", "--log-level LEVEL", "trace, debug, info, warn, error, critical, off (default info)",
     [](ServerOptions& options, const std::string& value) -> Problem {
       if (!is_log_level(value)) {
         return "needs one of trace, debug, info, warn, error, critical, off, got \"" + value + "\"";
       }
       options.log.level = value;
       return std::nullopt;
     }},
    {"log-file", "--log-file PATH", "append the log to PATH, reopened on SIGHUP (default stderr)",
     [](ServerOptions& options, const std::string& value) -> Problem {
       if (value.empty()) return "needs a file path";
       options.log.file = value;
       return std::nullopt;
     }},
    {"cluster", "--cluster URLS",
     "join a cluster through NATS: nats://HOST:PORT[,nats://...] (default: none, standalone)",
     [](ServerOptions& options, const std::string& value) -> Problem {
       if (!parse_cluster_urls(value, options.config.cluster.servers)) {
         return "needs nats://HOST:PORT[,nats://HOST:PORT...], got \"" + value + "\"";
       }
       return std::nullopt;
     }},
    {"node-id", "--node-id NAME", "this node's name in the cluster, unique (default: the full host name, '_' for '.')",
     [](ServerOptions& options, const std::string& value) -> Problem {
       if (!cluster::is_valid_node_id(value)) {
         return "needs 1 to 64 of [A-Za-z0-9_-], got \"" + value + "\"";
       }
       options.config.cluster.node_id = value;
       return std::nullopt;
     }},
    {"web-listen", "--web-listen HOST:PORT",
     "serve the chat page (GET /) and WebSocket clients (GET /ws) (default off)",
     [](ServerOptions& options, const std::string& value) -> Problem {
       options.config.web.listen = Endpoint::parse(value);
       if (!options.config.web.listen) return Endpoint::bad_address_error(value);
       return std::nullopt;
     }},
    {"web-origins", "--web-origins LIST",
     "pages allowed to open /ws, comma-separated host[:port] (default: the request's own Host)",
     [](ServerOptions& options, const std::string& value) -> Problem {
       options.config.web.origins.clear();
       for_each_recipient(value, [&](std::string_view origin) {
         options.config.web.origins.emplace_back(origin);
       });
       return std::nullopt;
     }},
    {"metrics-listen", "--metrics-listen HOST:PORT",
     "serve HTTP GET /metrics (Prometheus) and /connz (default off)",
     [](ServerOptions& options, const std::string& value) -> Problem {
       options.metrics_listen = Endpoint::parse(value);
       if (!options.metrics_listen) return Endpoint::bad_address_error(value);
       return std::nullopt;
     }},
};

template <class Option, std::size_t N>
const Option* find(const Option (&options)[N], std::string_view name) {
  const auto* found = std::find_if(std::begin(options), std::end(options),
                                   [&](const Option& option) { return name == option.name; });
  return found == std::end(options) ? nullptr : found;
}

bool is_option(std::string_view name) { return find(kNumbers, name) || find(kTexts, name); }

Problem apply(ServerOptions& options, std::string_view name, const std::string& value) {
  if (const auto* text = find(kTexts, name)) return text->apply(options, value);
  const auto* number = find(kNumbers, name);
  std::uint64_t parsed = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
      parsed < number->min || parsed > number->max) {
    return "needs an integer from " + std::to_string(number->min) + " to " +
           std::to_string(number->max) + ", got \"" + value + "\"";
  }
  number->set(options, parsed);
  return std::nullopt;
}

Problem apply_endpoint(ServerOptions& options, const std::string& value) {
  const auto endpoint = Endpoint::parse(value);
  if (!endpoint) return Endpoint::bad_address_error(value);
  options.config.endpoint = *endpoint;
  return std::nullopt;
}

// ACHAT_MAX_LINE_BYTES for max-line-bytes.
std::string environment_name(std::string_view option) {
  std::string name = "ACHAT_";
  for (const char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

constexpr const char* kListenVariable = "ACHAT_LISTEN";

std::vector<std::string> option_names() {
  std::vector<std::string> names;
  for (const auto& option : kNumbers) names.emplace_back(option.name);
  for (const auto& option : kTexts) names.emplace_back(option.name);
  return names;
}

std::optional<std::string> apply_environment(ServerOptions& options,
                                             const EnvironmentLookup& environment) {
  if (!environment) return std::nullopt;
  if (const char* listen = environment(kListenVariable)) {
    if (auto problem = apply_endpoint(options, listen)) {
      return std::string(kListenVariable) + "=" + listen + ": " + *problem;
    }
  }
  for (const auto& name : option_names()) {
    const std::string variable = environment_name(name);
    if (const char* value = environment(variable.c_str())) {
      if (auto problem = apply(options, name, value)) {
        return variable + "=" + value + ": option --" + name + " " + *problem;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::string> apply_command_line(ServerOptions& options,
                                              const std::vector<std::string>& args) {
  bool have_endpoint = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.help = true;
    } else if (arg == "--version" || arg == "-V") {
      options.version = true;
    } else if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2);
      std::optional<std::string> value;
      if (const auto equals = name.find('='); equals != std::string::npos) {
        value = name.substr(equals + 1);
        name.resize(equals);
      }
      if (!is_option(name)) return "unknown option --" + name + " (see --help)";
      if (!value && i + 1 < args.size()) value = args[++i];
      if (!value) return "option --" + name + " needs a value";
      if (auto problem = apply(options, name, *value)) return "option --" + name + " " + *problem;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return "unknown option " + arg + " (see --help)";
    } else if (have_endpoint) {
      return "unexpected argument: " + arg;
    } else {
      if (auto problem = apply_endpoint(options, arg)) return *problem;
      have_endpoint = true;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ServerOptions> parse_server_options(const std::vector<std::string>& args,
                                                  std::string& error,
                                                  const EnvironmentLookup& environment) {
  ServerOptions options;
  auto problem = apply_environment(options, environment);
  if (!problem) problem = apply_command_line(options, args);
  if (!problem) problem = limit_conflict(options.config.limits);
  ClusterConfig& cluster = options.config.cluster;
  if (!problem && cluster.enabled() && cluster.node_id.empty()) {
    cluster.node_id = default_node_id();
    if (!cluster::is_valid_node_id(cluster.node_id)) {
      problem = "the host name (as node id \"" + cluster.node_id + "\") is not a valid node id: set --node-id";
    }
  }
  if (problem) {
    error = *problem;
    return std::nullopt;
  }
  return options;
}

std::string server_usage() {
  const ServerOptions defaults;
  std::string text =
      "usage: a-chat-server [HOST:PORT] [options]\n"
      "A chat server: a client's first line is its login, then `alice, bob: text` sends\n"
      "`from <login>: text` to each listed peer. Default address 127.0.0.1:8080.\n\n"
      "options (--name=value or --name value; numbers as MIN..MAX (default)):\n";
  constexpr std::size_t kHelpColumn = 29;
  auto add = [&](std::string left, const std::string& help) {
    left.resize(std::max(left.size() + 1, kHelpColumn), ' ');
    text += "  " + left + help + "\n";
  };
  for (const auto& option : kTexts) add(option.usage, option.help);
  for (const auto& option : kNumbers) {
    add("--" + std::string(option.name) + " N", option.help);
    add("", std::to_string(option.min) + ".." + std::to_string(option.max) + " (default " +
                std::to_string(option.get(defaults)) + ")");
  }
  add("--version, -V", "print the version and exit");
  add("--help, -h", "this text");
  text +=
      "\nEvery option can also be set in the environment as ACHAT_<NAME> (upper case, '_' for '-',\n"
      "e.g. ACHAT_MAX_CLIENTS=5000) and the address as ACHAT_LISTEN; the command line wins.\n"
      "An ACHAT_ variable that sets nothing gets a warning in the log.\n\n"
      "signals: SIGINT or SIGTERM: stop accepting, deliver what was accepted, exit 0.\n"
      "  SIGHUP: reopen --log-file, flush the log, log a stats line. SIGUSR1: log a stats line.\n"
      "exit status: 0 after a graceful stop, 1 if the server cannot start (address in use,\n"
      "  log file not writable), 2 for a bad option.\n";
  return text;
}

std::string server_version() { return "a-chat-server " ACHAT_VERSION; }

std::vector<std::string> unknown_environment_variables(const std::vector<std::string>& names) {
  std::set<std::string> known{kListenVariable};
  for (const auto& name : option_names()) known.insert(environment_name(name));
  std::vector<std::string> unknown;
  for (const auto& name : names) {
    if (name.rfind("ACHAT_", 0) == 0 && !known.contains(name)) unknown.push_back(name);
  }
  return unknown;
}

}  // namespace achat
