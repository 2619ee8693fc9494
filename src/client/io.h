// Small blocking I/O helpers on raw descriptors, shared by both sessions.
#pragma once

#include <chrono>
#include <string_view>

namespace achat::client {

// write() everything, restarting after partial writes and EINTR. False (errno set) on failure.
bool write_all(int fd, std::string_view bytes) noexcept;

// Waits until `fd` is readable (or hung up / in error) or the deadline passes; restarts on
// EINTR with the remaining time. True if readable, false on timeout.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) noexcept;

}  // namespace achat::client
