// The metrics tests' HTTP client: Python's urllib in a child process (tests/metrics/http_get.py),
// so requests and responses are parsed by an HTTP implementation that is not ours.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace achat::testing {

struct HttpReply {
  int status = 0;  // 0: no response arrived (then `body` says why)
  std::string content_type;
  std::string allow;
  std::string body;
  std::chrono::milliseconds took{0};  // the whole request, client start-up included
};

// Sends `method` for http://127.0.0.1:port + target. With `as_json` the body must be JSON and
// comes back flattened, one `path=value` line per leaf (see http_get.py). Blocks the calling
// thread until the client exits; the client gives up after 10 s.
HttpReply http_request(std::uint16_t port, const std::string& target, const std::string& method = "GET",
                       bool as_json = false);

// A flattened JSON body as a map: "connections.0.login" -> "\"alice\"".
std::map<std::string, std::string> json_leaves(const std::string& flattened);

// What the server logs once its metrics endpoint listens (on 127.0.0.1), before the port.
inline const std::string kMetricsServedOn = "metrics served on http://127.0.0.1:";

// The port in that log line; 0 if the log has none.
std::uint16_t metrics_port(std::string_view server_log);

// The value of one series (a name with its labels, exactly as exposed) in a Prometheus text
// exposition; nullopt if it is absent or not an integer.
std::optional<std::uint64_t> sample(std::string_view exposition, std::string_view series);
// The same for a sample with a decimal point (process_cpu_seconds_total and the like).
std::optional<double> decimal_sample(std::string_view exposition, std::string_view series);

}  // namespace achat::testing
