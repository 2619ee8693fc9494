#include "achat/server_options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <fstream>
#include <sys/resource.h>
#include <unistd.h>
#include <variant>

#include "cluster/claim_record.h"

namespace achat {

namespace {

struct Option {
  const char* name;
  const char* help;
  std::variant<std::size_t Limits::*, unsigned Limits::*> field;
};

const Option kOptions[] = {
    {"max-line-bytes", "longest line a client may send", &Limits::max_line_bytes},
    {"max-login-bytes", "longest login", &Limits::max_login_bytes},
    {"max-recipients", "most names in one recipient list", &Limits::max_recipients},
    {"max-outbound-bytes", "bytes queued for one client before it is cut as a slow consumer",
     &Limits::max_outbound_bytes},
    {"max-clients", "connections served at once (0 = sized from process limits)",
     &Limits::max_clients},
    {"login-timeout-ms", "time a new connection has to send its login", &Limits::login_timeout_ms},
    {"send-timeout-ms", "time one blocked write may wait for a client to read",
     &Limits::send_timeout_ms},
    {"drain-timeout-ms", "time writers get to deliver on shutdown before connections are cut",
     &Limits::drain_timeout_ms},
    {"thread-stack-bytes", "stack size of each reader and writer thread",
     &Limits::thread_stack_bytes},
    {"read-chunk-bytes", "bytes per recv() call", &Limits::read_chunk_bytes},
    {"broker-spins", "spins of the broker on an empty inbox before it sleeps",
     &Limits::broker_spins},
};

template <class Number>
bool parse_number(const std::string& text, Number& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

std::size_t read_proc_number(const char* path, std::size_t fallback) {
  std::ifstream file(path);
  std::size_t value = 0;
  return file >> value ? value : fallback;
}

// ACHAT_MAX_LINE_BYTES for max-line-bytes.
std::string environment_name(std::string_view option) {
  std::string name = "ACHAT_";
  for (const char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

// The environment's settings as command-line arguments, to be parsed before the real ones.
std::vector<std::string> arguments_from(const EnvironmentLookup& environment) {
  std::vector<std::string> args;
  if (!environment) return args;
  if (const char* listen = environment("ACHAT_LISTEN")) args.emplace_back(listen);
  std::vector<std::string> names{"log-level", "stats-interval", "cluster", "node-id", "claim-ttl-ms"};
  for (const Option& option : kOptions) names.emplace_back(option.name);
  for (const auto& name : names) {
    if (const char* value = environment(environment_name(name).c_str())) {
      args.push_back("--" + name + "=" + value);
    }
  }
  return args;
}

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

// The host name up to its first dot: "node1" for node1.example.org.
std::string short_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  std::string host(name);
  return host.substr(0, host.find('.'));
}

// Parses one cluster option; false with `error` set if its value is bad.
bool parse_cluster_option(const std::string& name, const std::string& value, ClusterConfig& cluster,
                          std::string& error) {
  if (name == "cluster" && !parse_cluster_urls(value, cluster.servers)) {
    error = "option --cluster needs nats://HOST:PORT[,nats://HOST:PORT...], got \"" + value + "\"";
    return false;
  }
  if (name == "node-id") cluster.node_id = value;
  if (name == "claim-ttl-ms" && (!parse_number(value, cluster.claim_ttl_ms) || cluster.claim_ttl_ms < 300)) {
    error = "option --claim-ttl-ms needs a number of milliseconds (300 or more), got \"" + value + "\"";
    return false;
  }
  return true;
}

bool is_cluster_option(const std::string& name) {
  return name == "cluster" || name == "node-id" || name == "claim-ttl-ms";
}

}  // namespace

std::optional<ServerOptions> parse_server_options(const std::vector<std::string>& command_line,
                                                  std::string& error,
                                                  const EnvironmentLookup& environment) {
  ServerOptions options;
  std::vector<std::string> args = arguments_from(environment);
  const std::size_t from_environment = args.size();
  args.insert(args.end(), command_line.begin(), command_line.end());
  bool have_endpoint = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (i == from_environment) have_endpoint = false;  // the command line may override ACHAT_LISTEN
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      if (have_endpoint) {
        error = "unexpected argument: " + arg;
        return std::nullopt;
      }
      auto endpoint = Endpoint::parse(arg);
      if (!endpoint) {
        error = "not an IPv4 HOST:PORT: " + arg;
        return std::nullopt;
      }
      options.config.endpoint = *endpoint;
      have_endpoint = true;
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    if (const auto equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name.resize(equals);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      error = "option --" + name + " needs a value";
      return std::nullopt;
    }
    if (name == "log-level") {
      options.log_level = value;
      continue;
    }
    if (name == "stats-interval") {
      if (!parse_number(value, options.stats_interval_s)) {
        error = "option --stats-interval needs a number of seconds, got \"" + value + "\"";
        return std::nullopt;
      }
      continue;
    }
    if (is_cluster_option(name)) {
      if (!parse_cluster_option(name, value, options.config.cluster, error)) return std::nullopt;
      continue;
    }
    const auto* option = std::find_if(std::begin(kOptions), std::end(kOptions),
                                      [&](const Option& o) { return name == o.name; });
    if (option == std::end(kOptions)) {
      error = "unknown option --" + name + " (see --help)";
      return std::nullopt;
    }
    const bool parsed = std::visit(
        [&](auto field) { return parse_number(value, options.config.limits.*field); },
        option->field);
    if (!parsed) {
      error = "option --" + name + " needs a non-negative integer, got \"" + value + "\"";
      return std::nullopt;
    }
  }
  ClusterConfig& cluster = options.config.cluster;
  if (cluster.enabled() && cluster.node_id.empty()) cluster.node_id = short_host_name();
  if (cluster.enabled() && !cluster::is_valid_node_id(cluster.node_id)) {
    error = "option --node-id needs 1 to 64 of [A-Za-z0-9_-], got \"" + cluster.node_id + "\"";
    return std::nullopt;
  }
  return options;
}

std::string server_usage() {
  const Limits defaults;
  std::string text =
      "usage: a-chat-server [HOST:PORT] [options]\n"
      "A chat server: a client's first line is its login, then `alice, bob: text` sends\n"
      "`from <login>: text` to each listed peer. Default address 127.0.0.1:8080.\n\n"
      "options (--name=value or --name value):\n"
      "  --log-level LEVEL          trace, debug, info, warn, error, off (default info)\n"
      "  --stats-interval SECONDS   period of the stats line in the log, 0 = none (default 60)\n"
      "  --cluster URLS             join a cluster through NATS: nats://HOST:PORT[,nats://...]\n"
      "                             (default: none, a single standalone server)\n"
      "  --node-id NAME             this node's name in the cluster (default: the host name)\n"
      "  --claim-ttl-ms N           how long a crashed node's logins stay taken (default 15000)\n";
  for (const Option& option : kOptions) {
    const std::string value =
        std::visit([&](auto field) { return std::to_string(defaults.*field); }, option.field);
    std::string left = "  --" + std::string(option.name) + " N";
    left.resize(std::max<std::size_t>(left.size() + 1, 29), ' ');
    text += left + option.help + " (default " + value + ")\n";
  }
  text +=
      "  --help                     this text\n\n"
      "Every option can also be set in the environment as ACHAT_<NAME> (upper case, '_' for '-',\n"
      "e.g. ACHAT_MAX_CLIENTS=5000) and the address as ACHAT_LISTEN; the command line wins.\n"
      "SIGINT or SIGTERM: stop accepting, deliver what was accepted, exit 0.\n";
  return text;
}

std::size_t raise_fd_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  getrlimit(RLIMIT_NOFILE, &files);
  return static_cast<std::size_t>(files.rlim_cur);
}

std::string fit_to_process_limits(Limits& limits) {
  rlimit files{};
  files.rlim_cur = raise_fd_limit();
  rlimit tasks{};
  getrlimit(RLIMIT_NPROC, &tasks);
  constexpr std::size_t kReservedFds = 64;       // listener, logs, stdio, headroom
  constexpr std::size_t kReservedThreads = 64;   // accept, broker, main and other processes
  constexpr std::size_t kMapsPerThread = 2;      // stack + guard page
  constexpr std::size_t kReservedMaps = 1000;    // libraries, heap arenas
  const std::size_t fds = files.rlim_cur > kReservedFds ? files.rlim_cur - kReservedFds : 1;
  std::size_t threads = std::min<std::size_t>(
      {read_proc_number("/proc/sys/kernel/pid_max", 32768),
       read_proc_number("/proc/sys/kernel/threads-max", 32768),
       tasks.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<std::size_t>(tasks.rlim_cur)});
  threads = threads > kReservedThreads ? threads - kReservedThreads : 2;
  const std::size_t maps = read_proc_number("/proc/sys/vm/max_map_count", 65530);
  const std::size_t by_maps = maps > kReservedMaps ? (maps - kReservedMaps) / (2 * kMapsPerThread) : 1;
  const std::size_t fitted = std::max<std::size_t>(1, std::min({fds, threads / 2, by_maps}));
  if (limits.max_clients == 0) limits.max_clients = fitted;
  return "fd limit " + std::to_string(files.rlim_cur) + ", max clients " +
         std::to_string(limits.max_clients) + " (process limits allow " + std::to_string(fitted) + ")";
}

}  // namespace achat
