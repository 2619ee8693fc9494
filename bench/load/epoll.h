// Epoll: owns one epoll instance. Each registered descriptor carries a caller-chosen 64-bit
// token that comes back in its events. Errors from the kernel are thrown as std::system_error.
#pragma once

#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "clock.h"
#include "achat/unique_fd.h"

namespace achat::load {

class Epoll {
 public:
  Epoll();

  void add(int fd, std::uint32_t events, std::uint64_t token);
  void remove(int fd) noexcept;

  // Waits for events until `deadline` (CLOCK_MONOTONIC, nanosecond precision; a deadline in
  // the past polls). Returns how many entries of `events` were filled; 0 on timeout or EINTR.
  std::size_t wait(std::span<epoll_event> events, Nanos deadline);

 private:
  UniqueFd fd_;
};

}  // namespace achat::load
