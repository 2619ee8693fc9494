// The exit statuses of a-chat-client, documented in --help and the README.
#pragma once

namespace achat::client {

// The user quit (/quit, Ctrl-D, or end of piped stdin after everything was sent) and the
// connection closed cleanly.
inline constexpr int kExitClean = 0;
// The connection failed: refused, lost, or closed by the server with a disconnect notice.
inline constexpr int kExitConnectionFailed = 1;
// A bad command line.
inline constexpr int kExitUsage = 2;
// Ctrl-C is not caught: the process ends by SIGINT, which shells report as 130.

}  // namespace achat::client
