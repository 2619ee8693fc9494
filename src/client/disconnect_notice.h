// Telling a server that said goodbye from a connection that was lost. Before it closes a
// connection on purpose the server sends one error line (README "Error and notice lines"): a
// refusal ending in ", disconnecting", "error: server full", "error: server shutting down", or
// in a cluster "error: cluster unavailable, try again" (a login NATS could not confirm).
// A connection that ends without one was lost (the server crashed or the network failed).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace achat::client {

// True for the line a server sends before it closes the connection on purpose.
bool is_disconnect_notice(std::string_view line);
// True for a disconnect notice that refuses the login (taken, held by a silent cluster node, or
// invalid): another may work.
bool is_login_refusal(std::string_view line);
// True for the notice of a cluster that cannot confirm logins now (at login, or ending a
// session whose login it can no longer vouch for): the same login may work in a moment.
bool is_cluster_unavailable(std::string_view line);

// LastServerLine: remembers the last line of a byte stream, to look for a disconnect notice
// once the stream has ended.
// Owns: copies of at most kMaxKept bytes of the last two lines. One thread at a time.
// Promise: disconnect_notice() is the stream's last line (terminated or not, without its
// '\n') if that line is a disconnect notice; lines longer than kMaxKept never are.
class LastServerLine {
 public:
  static constexpr std::size_t kMaxKept = 1024;

  void feed(std::string_view bytes);
  std::optional<std::string> disconnect_notice() const;

 private:
  static void keep(std::string& into, std::string_view bytes);

  std::string complete_;  // the last '\n'-terminated line (up to kMaxKept + 1 bytes)
  std::string current_;   // the bytes after it (likewise)
};

}  // namespace achat::client
