// What the server needs to know to let browsers in (src/web/): where to listen, whom to trust.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "achat/endpoint.h"

namespace achat {

// Fds one WebSocket client holds: its socket, and its io_context's epoll fd, eventfd and timerfd
// (Boost 1.74 on Linux). A TCP client holds one. --max-clients sizing counts this many per client
// when the web listener is on.
inline constexpr std::size_t kWebClientFds = 4;

struct WebConfig {
  // GET / (the page) and GET /ws (WebSocket) on this address; none: not served.
  std::optional<Endpoint> listen;
  // Origins (host[:port], scheme ignored, case-insensitive) whose pages may open /ws. Empty: only
  // a page served under the request's own Host. A request without Origin (not a browser) is
  // always accepted.
  std::vector<std::string> origins;
};

}  // namespace achat
