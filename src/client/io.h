// Small blocking I/O helpers shared by both sessions: raw descriptors and the connect.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "achat/socket.h"

namespace achat::client {

// The name every message of the client starts with.
inline constexpr const char* kProgramName = "a-chat-client";

// write() everything, restarting after partial writes and EINTR. False (errno set) on failure.
bool write_all(int fd, std::string_view bytes) noexcept;

// Waits until `fd` is readable (or hung up / in error) or the deadline passes; restarts on
// EINTR with the remaining time. True if readable, false on timeout.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) noexcept;

// Socket::connect_to; on failure nullopt, and `failure` says why in one line without the
// program name: "cannot connect to HOST:PORT: Connection refused".
std::optional<Socket> connect_to_server(const Endpoint& server, std::string& failure);

// Looks the server's host up (getaddrinfo, as connect_to_server would) without connecting, so
// a mistyped host is reported before anyone types a login. nullopt if it resolves, else the
// same one-line failure: "cannot connect to HOST:PORT: Name or service not known".
std::optional<std::string> resolve_failure(const Endpoint& server);

}  // namespace achat::client
