#include "options.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

namespace achat::load {

namespace {

struct Preset {
  std::string_view name;
  std::uint32_t clients;
  std::uint32_t recipients;
  Pattern pattern;
  std::uint32_t window;
  std::uint64_t messages;
  std::size_t size;
  double rate;
  double duration_s;
};

// The named workloads. Change a preset and results stop being comparable with older runs.
constexpr std::array kPresets{
    // fan-out: many clients, each message to a few peers, closed loop.
    Preset{"fanout", 100, 3, Pattern::kRandom, 32, 2000, 64, 0, 0},
    // group chat: every message to all 49 others, closed loop.
    Preset{"group", 50, 49, Pattern::kRandom, 8, 400, 64, 0, 0},
    // latency: open loop, 20 messages/s per client for 10 s, one recipient.
    Preset{"latency", 1000, 1, Pattern::kRandom, 1, 200, 64, 20, 10},
    // crowd: many connections, one message each around the ring.
    Preset{"crowd", 10000, 1, Pattern::kNext, 1, 1, 64, 0, 0},
    // crowd-active: many connections all talking, open loop, 2 messages/s each for 10 s.
    Preset{"crowd-active", 10000, 1, Pattern::kRandom, 1, 20, 64, 2, 10},
    // storm: crowd's clients log in, all leave, and all reconnect at once (a warm server after
    // its users' network blip); then crowd's one message each around the ring.
    Preset{"storm", 10000, 1, Pattern::kNext, 1, 1, 64, 0, 0},
    // churn: 1,000 slots for 10 s, each connecting, logging in, sending one line to itself,
    // waiting for its echo and leaving, again and again (users coming and going).
    Preset{"churn", 1000, 1, Pattern::kNext, 1, 1, 64, 0, 10},
};

constexpr std::string_view kWorkloadNames =
    "fanout, group, latency, crowd, crowd-active, storm, churn";

// Explicit values from the command line; unset ones come from the preset.
struct Overrides {
  std::optional<std::uint32_t> clients, recipients, window, connect_concurrency;
  std::optional<Pattern> pattern;
  std::optional<std::uint64_t> messages;
  std::optional<std::size_t> size;
  std::optional<double> rate, duration_s, deadline_s;
};

template <class Int>
Int parse_integer(std::string_view option, std::string_view text) {
  Int value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    throw UsageError(std::string(option) + ": not a non-negative integer: " + std::string(text));
  }
  return value;
}

double parse_seconds_or_rate(std::string_view option, std::string_view text) {
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size() || !(value >= 0) ||
      !std::isfinite(value)) {
    throw UsageError(std::string(option) + ": not a non-negative number: " + std::string(text));
  }
  return value;
}

sockaddr_in parse_server(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw UsageError("--server: expected HOST:PORT");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(parse_integer<std::uint16_t>("--server port", text.substr(colon + 1)));
  const std::string host(text.substr(0, colon));
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw UsageError("--server: not an IPv4 address: " + host);
  }
  return address;
}

const Preset& find_preset(std::string_view name) {
  for (const Preset& preset : kPresets) {
    if (preset.name == name) return preset;
  }
  throw UsageError("unknown workload '" + std::string(name) + "' (" + std::string(kWorkloadNames) +
                   ")");
}

Pattern parse_pattern(std::string_view text) {
  for (const Pattern pattern : {Pattern::kRandom, Pattern::kNext}) {
    if (text == pattern_name(pattern)) return pattern;
  }
  throw UsageError("--pattern: expected random or next, not '" + std::string(text) + "'");
}

// churn's clients each send one line to themselves per connection, closed loop: the options
// that shape messages would be silently ignored, so they are refused.
void refuse_for_churn(const Overrides& overrides) {
  const auto refuse = [](bool given, std::string_view option) {
    if (given) {
      throw UsageError(std::string(option) +
                       " does not apply to churn (one line to itself per connection)");
    }
  };
  refuse(overrides.recipients.has_value(), "--recipients");
  refuse(overrides.pattern.has_value(), "--pattern");
  refuse(overrides.window.has_value(), "--window");
  refuse(overrides.messages.has_value(), "--messages");
  refuse(overrides.rate.has_value(), "--rate");
}

void validate(const Options& options) {
  if (options.clients < 2) throw UsageError("--clients must be at least 2");
  if (options.include_self && options.pattern != Pattern::kRandom) {
    throw UsageError("--include-self needs --pattern random (the ring never addresses its sender)");
  }
  const std::uint32_t candidates = options.include_self ? options.clients : options.clients - 1;
  if (options.recipients < 1 || options.recipients > candidates) {
    throw UsageError(options.include_self ? "--recipients must be between 1 and clients"
                                          : "--recipients must be between 1 and clients - 1");
  }
  if (!options.open_loop() && options.window < 1) throw UsageError("--window must be at least 1");
  if (options.messages == 0 && options.duration_s == 0) {
    throw UsageError("need --messages or --duration to bound the run");
  }
  if (options.connect_concurrency < 1) throw UsageError("--connect-concurrency must be at least 1");
  if (options.deadline_s <= 0) throw UsageError("--deadline must be positive");
  if (options.churn && options.duration_s <= 0) throw UsageError("churn needs --duration above 0");
  if (options.churn && options.deadline_s <= options.duration_s) {
    throw UsageError("churn needs --deadline above --duration (the last cycles finish in between)");
  }
}

}  // namespace

const char* pattern_name(Pattern pattern) noexcept {
  return pattern == Pattern::kNext ? "next" : "random";
}

const char* usage_text() noexcept {
  return "usage: a-chat-load --server HOST:PORT[,HOST:PORT...]\n"
         "         --workload fanout|group|latency|crowd|crowd-active|storm|churn\n"
         "         [--clients N] [--recipients K] [--pattern random|next] [--seed N]\n"
         "         [--include-self] [--window W] [--messages M] [--size BYTES]\n"
         "         [--rate R] [--duration S] [--deadline S] [--connect-concurrency C]\n"
         "         [--transport tcp|ws] [--json] [--server-pid PID]\n"
         "  --pattern random: each message to K distinct clients drawn from all of them (never\n"
         "  the sender unless --include-self), from a PRNG seeded with --seed (default 1);\n"
         "  next: client i always sends to i+1 .. i+K. crowd uses next, the others random.\n"
         "  --rate R > 0 runs open loop (R messages/s per client, window ignored); with\n"
         "  --duration S and no --messages each client then sends R*S messages. In closed loop\n"
         "  --duration S stops sending after S seconds (--messages 0: no count limit).\n"
         "  Several servers (nodes of one cluster) share the clients: client i uses the\n"
         "  (i mod n)-th; --server-pid then names the first one's process.\n"
         "  --transport ws: every client is a WebSocket client of GET /ws on the given\n"
         "  servers (their --web-listen addresses), one text frame per line.\n"
         "  churn: --clients slots, each connecting, logging in with a fresh login, sending\n"
         "  one line to itself, waiting for its echo and closing, again until --duration\n"
         "  (default 10 s) is over.\n";
}

Options parse_options(int argc, char** argv) {
  Options options;
  Overrides overrides;
  std::optional<std::string> workload;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_value = false;
    if (const auto equals = arg.find('=');
        arg.starts_with("--") && equals != std::string_view::npos) {
      value = arg.substr(equals + 1);
      arg = arg.substr(0, equals);
      has_value = true;
    }
    auto next = [&]() -> std::string_view {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") throw HelpRequested{};
    if (arg == "--json") {
      options.json = true;
    } else if (arg == "--include-self") {
      options.include_self = true;
    } else if (arg == "--pattern") {
      overrides.pattern = parse_pattern(next());
    } else if (arg == "--seed") {
      options.seed = parse_integer<std::uint64_t>(arg, next());
    } else if (arg == "--server") {
      options.server_text = std::string(next());
      options.servers.clear();
      std::string_view list = options.server_text;
      while (true) {
        const auto comma = list.find(',');
        options.servers.push_back(parse_server(list.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
      }
    } else if (arg == "--transport") {
      const std::string_view transport = next();
      if (transport == "tcp") {
        options.transport = Transport::kTcp;
      } else if (transport == "ws") {
        options.transport = Transport::kWebSocket;
      } else {
        throw UsageError("--transport is tcp or ws, not '" + std::string(transport) + "'");
      }
    } else if (arg == "--workload") {
      workload = std::string(next());
    } else if (arg == "--clients") {
      overrides.clients = parse_integer<std::uint32_t>(arg, next());
    } else if (arg == "--recipients") {
      overrides.recipients = parse_integer<std::uint32_t>(arg, next());
    } else if (arg == "--window") {
      overrides.window = parse_integer<std::uint32_t>(arg, next());
    } else if (arg == "--messages") {
      overrides.messages = parse_integer<std::uint64_t>(arg, next());
    } else if (arg == "--size") {
      overrides.size = parse_integer<std::size_t>(arg, next());
    } else if (arg == "--rate") {
      overrides.rate = parse_seconds_or_rate(arg, next());
    } else if (arg == "--duration") {
      overrides.duration_s = parse_seconds_or_rate(arg, next());
    } else if (arg == "--deadline") {
      overrides.deadline_s = parse_seconds_or_rate(arg, next());
    } else if (arg == "--connect-concurrency") {
      overrides.connect_concurrency = parse_integer<std::uint32_t>(arg, next());
    } else if (arg == "--server-pid") {
      options.server_pid = parse_integer<pid_t>(arg, next());
    } else {
      throw UsageError("unknown option: " + std::string(arg));
    }
  }
  if (options.server_text.empty()) throw UsageError("--server HOST:PORT is required");
  if (!workload) throw UsageError("--workload is required");

  const Preset& preset = find_preset(*workload);
  options.workload = *workload;
  options.rejoin = *workload == "storm";
  options.churn = *workload == "churn";
  if (options.churn) refuse_for_churn(overrides);
  options.clients = overrides.clients.value_or(preset.clients);
  options.recipients = overrides.recipients.value_or(preset.recipients);
  options.pattern = overrides.pattern.value_or(preset.pattern);
  options.window = overrides.window.value_or(preset.window);
  options.messages = overrides.messages.value_or(preset.messages);
  options.size = overrides.size.value_or(preset.size);
  options.rate = overrides.rate.value_or(preset.rate);
  options.duration_s = overrides.duration_s.value_or(preset.duration_s);
  options.deadline_s = overrides.deadline_s.value_or(options.deadline_s);
  options.connect_concurrency = overrides.connect_concurrency.value_or(options.connect_concurrency);
  if (options.open_loop() && options.duration_s > 0 && !overrides.messages) {
    options.messages = static_cast<std::uint64_t>(std::ceil(options.rate * options.duration_s));
  }
  validate(options);
  return options;
}

}  // namespace achat::load
