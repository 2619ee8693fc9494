#include "scraper.h"

#include <charconv>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "server_process.h"

namespace achat::testing {

namespace {

// Set by tests/metrics/meson.build.
std::string from_environment(const char* name) {
  const char* value = std::getenv(name);
  if (!value) throw std::runtime_error(std::string(name) + " is not set: run through meson test");
  return value;
}

}  // namespace

HttpReply http_request(std::uint16_t port, const std::string& target, const std::string& method,
                       bool as_json) {
  std::vector<std::string> args{from_environment("ACHAT_HTTP_GET"),
                                "http://127.0.0.1:" + std::to_string(port) + target, "--method", method};
  if (as_json) args.emplace_back("--json");
  const auto start = std::chrono::steady_clock::now();
  const Finished finished = run_to_completion(from_environment("ACHAT_PYTHON"), args);
  HttpReply reply;
  reply.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::istringstream out(finished.out);
  std::string status;
  if (finished.status != 0 || !std::getline(out, status) || !std::getline(out, reply.content_type) ||
      !std::getline(out, reply.allow)) {
    reply.body = finished.out;
    return reply;
  }
  reply.status = std::stoi(status);
  reply.body = finished.out.substr(static_cast<std::size_t>(out.tellg()));
  return reply;
}

std::map<std::string, std::string> json_leaves(const std::string& flattened) {
  std::map<std::string, std::string> leaves;
  std::istringstream lines(flattened);
  std::string line;
  while (std::getline(lines, line)) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) leaves[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return leaves;
}

namespace {

// The value of `series` in `exposition`, parsed as a Number; nullopt if absent or not a number.
template <typename Number>
std::optional<Number> parse_sample(std::string_view exposition, std::string_view series) {
  const std::string prefix = "\n" + std::string(series) + " ";
  const std::string text = "\n" + std::string(exposition);
  const auto at = text.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  const char* first = text.data() + at + prefix.size();
  const auto end_of_line = text.find('\n', at + 1);
  const char* last = text.data() + (end_of_line == std::string::npos ? text.size() : end_of_line);
  Number value = 0;
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc() || end != last) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::uint64_t> sample(std::string_view exposition, std::string_view series) {
  return parse_sample<std::uint64_t>(exposition, series);
}

std::optional<double> decimal_sample(std::string_view exposition, std::string_view series) {
  return parse_sample<double>(exposition, series);
}

std::uint16_t metrics_port(std::string_view server_log) {
  const auto at = server_log.find(kMetricsServedOn);
  if (at == std::string_view::npos) return 0;
  const std::string_view digits = server_log.substr(at + kMetricsServedOn.size());
  std::uint16_t port = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return port;
}

}  // namespace achat::testing
