// The Origin rule for WebSocket upgrades: which pages may open /ws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace achat::web {

// Pure function, any thread. True if a browser page from `origin` (the Origin header, e.g.
// "https://chat.example:8443"; empty when the header is missing) may open a WebSocket on a
// request whose Host header is `host`. A missing Origin is accepted (not a browser: a browser
// always sends one, so a page elsewhere cannot drop it). Otherwise the Origin's host[:port],
// scheme ignored so a TLS-terminating proxy in front changes nothing, must equal `host`
// (case-insensitive) when `allowed` is empty, or one of `allowed` when it is not. "null" (a
// sandboxed or file: page) matches nothing.
bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed);

}  // namespace achat::web
