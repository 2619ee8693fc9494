// The address both programs take on their command line (the server's listen address, the
// client's server), and its parser.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace achat {

// A host and port as written on the command line. A plain value, safe to copy between threads.
// The forms: "HOST:PORT" (an IPv4 address or a host name such as "localhost"), "[IPv6]:PORT"
// ("[::1]:8080", a zone as in "[fe80::1%eth0]:8080" is allowed) and ":PORT" (empty host: every
// interface for Socket::listen_on, localhost for Socket::connect_to; see socket.h). The port is
// decimal 0..65535; port 0 lets listen_on pick a free one.
struct Endpoint {
  std::string host = "127.0.0.1";  // without brackets; empty as described above
  std::uint16_t port = 8080;

  // nullopt unless `text` is one of the forms above. Only checks the syntax: a host name is
  // resolved when the socket is made.
  static std::optional<Endpoint> parse(std::string_view text);
  // The one-line complaint both programs print for text that parse() refuses.
  static std::string bad_address_error(std::string_view text);

  // Back in the command-line form: "127.0.0.1:8080", "[::1]:8080", ":8080".
  std::string to_string() const;
  // For an IPv4 literal host only (tests that set options before connecting by hand); throws
  // std::system_error otherwise. Socket::listen_on and connect_to accept every form.
  sockaddr_in to_sockaddr() const;
};

}  // namespace achat
