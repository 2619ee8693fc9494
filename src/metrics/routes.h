// The metrics endpoint's routes: which reply a request gets, without any I/O.
#pragma once

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>

#include "achat/server.h"

namespace achat::metrics {

struct Reply {
  boost::beast::http::status status;
  std::string_view content_type;
  std::string body;
};

// GET /metrics: the Prometheus exposition. GET /connz[?limit=N&offset=M]: who is online, as
// JSON (400 if limit or offset is not a number). GET /healthz: 200 "ok", or in a cluster 503
// while logins cannot be confirmed. Either path with another method: 405 (the
// caller adds "Allow: GET"). Any other path: 404. Runs on the calling thread; reads only what
// exposition() and a Registry snapshot read.
Reply route(const Server& server, boost::beast::http::verb method, std::string_view target);

// 400, for a request that could not be parsed or a query that makes no sense.
Reply bad_request(std::string_view why);

}  // namespace achat::metrics
