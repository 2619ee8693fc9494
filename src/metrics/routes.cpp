#include "routes.h"

#include <chrono>

#include "achat/registry.h"
#include "connz.h"
#include "exposition.h"

namespace achat::metrics {

namespace {

namespace http = boost::beast::http;

constexpr std::string_view kTextType = "text/plain; charset=utf-8";
constexpr std::string_view kJsonType = "application/json";

Reply connz(const Server& server, std::string_view query) {
  const auto page = parse_connz_query(query);
  if (!page) return bad_request("limit and offset must be numbers");
  return {http::status::ok, kJsonType,
          connz_json(server.registry().snapshot(), *page, std::chrono::system_clock::now())};
}

// Standalone, serving is health; in a cluster, so is being able to confirm a login now.
Reply healthz(const Server& server) {
  const ClusterNode* cluster = server.cluster();
  if (cluster && !cluster->confirming_logins()) {
    return {http::status::service_unavailable, kTextType,
            "unavailable: the cluster cannot confirm logins now\n"};
  }
  return {http::status::ok, kTextType, "ok\n"};
}

}  // namespace

Reply route(const Server& server, http::verb method, std::string_view target) {
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  if (path != "/metrics" && path != "/connz" && path != "/healthz") {
    return {http::status::not_found, kTextType, "not found: try /metrics, /connz or /healthz\n"};
  }
  // HEAD is answered as GET; the server then sends the headers alone.
  if (method != http::verb::get && method != http::verb::head) {
    return {http::status::method_not_allowed, kTextType, "only GET and HEAD are served\n"};
  }
  if (path == "/connz") return connz(server, query);
  if (path == "/healthz") return healthz(server);
  return {http::status::ok, kExpositionContentType, exposition(server)};
}

Reply bad_request(std::string_view why) {
  return {http::status::bad_request, kTextType, "bad request: " + std::string(why) + "\n"};
}

}  // namespace achat::metrics
