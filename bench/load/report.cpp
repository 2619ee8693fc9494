#include "report.h"

#include <cinttypes>
#include <string>
#include <string_view>

namespace achat::load {

namespace {

double per_second(std::uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

// Server RSS growth from before connecting to after the ready barrier, per client.
std::optional<double> rss_per_connection_bytes(const Options& options, const Results& results) {
  if (!results.server_before || !results.server_ready) return std::nullopt;
  const double grown_kb = static_cast<double>(results.server_ready->rss_kb) -
                          static_cast<double>(results.server_before->rss_kb);
  return grown_kb * 1024 / options.clients;
}

// The load generator's CPU time over the timed phase in % of one core: near 100 means the run
// measured the generator as much as the server.
double load_cpu_pct(const Results& results) {
  return results.timed_s > 0 ? results.load_cpu_s / results.timed_s * 100 : 0;
}

// CPU time per delivered line (or per churn connection), in microseconds.
std::optional<double> us_per(std::optional<double> cpu_s, std::uint64_t count) {
  if (!cpu_s || count == 0) return std::nullopt;
  return *cpu_s * 1e6 / static_cast<double>(count);
}

// Writes one flat JSON object: {"key": value, ...}.
class JsonObject {
 public:
  explicit JsonObject(std::FILE* out) : out_(out) { std::fputc('{', out_); }
  ~JsonObject() { std::fputs("}\n", out_); }
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  void number(std::string_view key, double value) {
    this->key(key);
    std::fprintf(out_, "%.3f", value);
  }
  // Nothing at all if there is no value.
  void number(std::string_view key, std::optional<double> value) {
    if (value) number(key, *value);
  }
  void integer(std::string_view key, std::uint64_t value) {
    this->key(key);
    std::fprintf(out_, "%" PRIu64, value);
  }
  void boolean(std::string_view key, bool value) {
    this->key(key);
    std::fputs(value ? "true" : "false", out_);
  }
  void string(std::string_view key, std::string_view value) {
    this->key(key);
    quoted(value);
  }

 private:
  void key(std::string_view key) {
    if (!first_) std::fputs(", ", out_);
    first_ = false;
    quoted(key);
    std::fputs(": ", out_);
  }
  void quoted(std::string_view text) {
    std::fputc('"', out_);
    for (const char c : text) {
      if (c == '"' || c == '\\') {
        std::fputc('\\', out_);
        std::fputc(c, out_);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        std::fprintf(out_, "\\u%04x", static_cast<unsigned>(c));
      } else {
        std::fputc(c, out_);
      }
    }
    std::fputc('"', out_);
  }

  std::FILE* out_;
  bool first_ = true;
};

void json_sample(JsonObject& json, std::string_view when, const std::optional<ProcSample>& sample) {
  if (!sample) return;
  json.integer("server_rss_" + std::string(when) + "_kb", sample->rss_kb);
  json.integer("server_threads_" + std::string(when), sample->threads);
}

void text_sample(std::FILE* out, const char* when, const std::optional<ProcSample>& sample) {
  if (!sample) return;
  std::fprintf(out, "  server %-14s RSS %" PRIu64 " kB, %" PRIu64 " threads\n", when,
               sample->rss_kb, sample->threads);
}

void messages_text(std::FILE* out, const Options& options, const Results& results) {
  std::fprintf(out,
               "workload %s against %s (%s): %" PRIu32 " clients, %" PRIu32
               " recipients (pattern %s%s, seed %" PRIu64 "), ",
               options.workload.c_str(), options.server_text.c_str(),
               transport_name(options.transport), options.clients,
               options.recipients, pattern_name(options.pattern),
               options.include_self ? ", self included" : "", options.seed);
  if (options.open_loop()) {
    std::fprintf(out, "open loop %g msg/s per client", options.rate);
  } else {
    std::fprintf(out, "window %" PRIu32, options.window);
  }
  std::fprintf(out, ", %" PRIu64 " messages of %zu bytes each\n", options.messages, options.size);
  std::fprintf(out, "  connect          %.1f ms (all TCP connects)\n", results.connect_ms);
  std::fprintf(out, "  connect+login    %.1f ms (until every ready echo)\n", results.login_ms);
  std::fprintf(out, "  timed phase      %.3f s\n", results.timed_s);
  std::fprintf(out, "  sent             %" PRIu64 " messages, %.0f msg/s\n", results.messages_sent,
               per_second(results.messages_sent, results.timed_s));
  std::fprintf(out, "  delivered        %" PRIu64 " of %" PRIu64 ", %.0f deliveries/s\n",
               results.deliveries, results.deliveries_expected,
               per_second(results.deliveries, results.timed_s));
  std::fprintf(out, "  latency us       p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
               results.latency.p50_us, results.latency.p99_us, results.latency.p999_us,
               results.latency.max_us);
  if (options.open_loop()) {
    std::fprintf(out, "  send lag us      p99 %.1f  max %.1f (load generator behind schedule)\n",
                 results.send_lag.p99_us, results.send_lag.max_us);
  }
  std::fprintf(out, "  generator CPU    %.3f s (%.0f%% of a core), %.3f us per delivery\n",
               results.load_cpu_s, load_cpu_pct(results),
               us_per(results.load_cpu_s, results.deliveries).value_or(0));
  if (results.server_idle_cpu_pct) {
    std::fprintf(out, "  server idle CPU  %.1f%% of a core (one idle second after ready)\n",
                 *results.server_idle_cpu_pct);
  }
  if (results.server_cpu_s) {
    std::fprintf(out, "  server CPU       %.3f s, %.3f us per delivery\n", *results.server_cpu_s,
                 us_per(results.server_cpu_s, results.deliveries).value_or(0));
  }
}

void churn_text(std::FILE* out, const Options& options, const Results& results) {
  std::fprintf(out,
               "workload churn against %s (%s): %" PRIu32
               " client slots for %g s, each connection one line of %zu bytes to itself\n",
               options.server_text.c_str(), transport_name(options.transport), options.clients,
               options.duration_s, options.size);
  std::fprintf(out,
               "  connections      %" PRIu64 " completed, %" PRIu64 " failed, %.0f/s over %.3f s\n",
               results.connections, results.failures,
               per_second(results.connections, results.timed_s), results.timed_s);
  std::fprintf(out, "  cycle ms         p50 %.3f  p99 %.3f  max %.3f (connect start to echo)\n",
               results.cycle.p50_us / 1e3, results.cycle.p99_us / 1e3, results.cycle.max_us / 1e3);
  std::fprintf(out, "  generator CPU    %.3f s (%.0f%% of a core), %.3f us per connection\n",
               results.load_cpu_s, load_cpu_pct(results),
               us_per(results.load_cpu_s, results.connections).value_or(0));
  if (results.server_cpu_s) {
    std::fprintf(out, "  server CPU       %.3f s, %.3f us per connection\n", *results.server_cpu_s,
                 us_per(results.server_cpu_s, results.connections).value_or(0));
  }
}

void messages_json(JsonObject& json, const Options& options, const Results& results) {
  json.integer("recipients", options.recipients);
  json.string("pattern", pattern_name(options.pattern));
  json.integer("seed", options.seed);
  json.boolean("include_self", options.include_self);
  json.integer("window", options.window);
  json.integer("messages", options.messages);
  json.integer("size", options.size);
  json.number("rate", options.rate);
  json.number("connect_ms", results.connect_ms);
  json.number("login_ms", results.login_ms);
  if (results.first_login_ms) json.number("first_login_ms", *results.first_login_ms);
  json.number("timed_s", results.timed_s);
  json.integer("messages_sent", results.messages_sent);
  json.integer("deliveries", results.deliveries);
  json.integer("deliveries_expected", results.deliveries_expected);
  json.number("sent_per_s", per_second(results.messages_sent, results.timed_s));
  json.number("delivered_per_s", per_second(results.deliveries, results.timed_s));
  json.number("latency_p50_us", results.latency.p50_us);
  json.number("latency_p99_us", results.latency.p99_us);
  json.number("latency_p999_us", results.latency.p999_us);
  json.number("latency_max_us", results.latency.max_us);
  if (options.open_loop()) {
    json.number("send_lag_p99_us", results.send_lag.p99_us);
    json.number("send_lag_max_us", results.send_lag.max_us);
  }
  json.number("load_cpu_s", results.load_cpu_s);
  json.number("load_cpu_pct", load_cpu_pct(results));
  json.number("load_cpu_us_per_delivery", us_per(results.load_cpu_s, results.deliveries));
  json.number("server_idle_cpu_pct", results.server_idle_cpu_pct);
  json.number("server_cpu_s", results.server_cpu_s);
  json.number("server_cpu_us_per_delivery", us_per(results.server_cpu_s, results.deliveries));
  if (results.server_switches && results.deliveries > 0) {
    json.number("server_switches_per_delivery",
                static_cast<double>(*results.server_switches) / static_cast<double>(results.deliveries));
  }
}

// churn: per completed connection instead of per delivered line.
void churn_json(JsonObject& json, const Options& options, const Results& results) {
  json.number("duration_s", options.duration_s);
  json.integer("size", options.size);
  json.number("timed_s", results.timed_s);
  json.integer("connections", results.connections);
  json.integer("failures", results.failures);
  json.number("connections_per_s", per_second(results.connections, results.timed_s));
  json.number("cycle_p50_ms", results.cycle.p50_us / 1e3);
  json.number("cycle_p99_ms", results.cycle.p99_us / 1e3);
  json.number("cycle_max_ms", results.cycle.max_us / 1e3);
  json.number("load_cpu_s", results.load_cpu_s);
  json.number("load_cpu_pct", load_cpu_pct(results));
  json.number("load_cpu_us_per_connection", us_per(results.load_cpu_s, results.connections));
  json.number("server_cpu_s", results.server_cpu_s);
  json.number("server_cpu_us_per_connection", us_per(results.server_cpu_s, results.connections));
  if (results.server_switches && results.connections > 0) {
    json.number("server_switches_per_connection", static_cast<double>(*results.server_switches) /
                                                      static_cast<double>(results.connections));
  }
}

}  // namespace

void print_text(std::FILE* out, const Options& options, const Results& results) {
  if (options.churn) {
    churn_text(out, options, results);
  } else {
    messages_text(out, options, results);
  }
  text_sample(out, "before connect", results.server_before);
  text_sample(out, "after ready", results.server_ready);
  text_sample(out, "at end", results.server_end);
  if (const auto per_connection = rss_per_connection_bytes(options, results)) {
    std::fprintf(out, "  server RSS per connection %.0f bytes\n", *per_connection);
  }
  if (results.ok) {
    std::fprintf(out, "PASS\n");
  } else {
    std::fprintf(out, "FAIL: %s\n", results.error.c_str());
  }
}

void print_json(std::FILE* out, const Options& options, const Results& results) {
  JsonObject json(out);
  json.string("workload", options.workload);
  json.boolean("ok", results.ok);
  json.string("error", results.error);
  json.string("server", options.server_text);
  json.string("transport", transport_name(options.transport));
  json.integer("clients", options.clients);
  if (options.churn) {
    churn_json(json, options, results);
  } else {
    messages_json(json, options, results);
  }
  json_sample(json, "before", results.server_before);
  json_sample(json, "ready", results.server_ready);
  json_sample(json, "end", results.server_end);
  if (const auto per_connection = rss_per_connection_bytes(options, results)) {
    json.number("server_rss_per_connection_bytes", *per_connection);
  }
}

}  // namespace achat::load
