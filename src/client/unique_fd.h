// UniqueFd: an owning file descriptor that is not a socket (pipes, eventfds, pidfds).
//
// Owns: one fd, closed exactly once in the destructor. Move-only.
// Threads: any thread may use fd() concurrently; moving or destroying needs exclusive access.
// Promise: never closes a descriptor it did not receive; -1 means "none".
#pragma once

#include <unistd.h>

#include <utility>

namespace achat::client {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int fd() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  void reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

}  // namespace achat::client
