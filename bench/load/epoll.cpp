#include "epoll.h"

#include <cerrno>
#include <system_error>

namespace achat::load {

namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

Epoll::Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!fd_) throw_errno("epoll_create1");
}

void Epoll::add(int fd, std::uint32_t events, std::uint64_t token) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (::epoll_ctl(fd_.fd(), EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl(ADD)");
}

void Epoll::remove(int fd) noexcept { ::epoll_ctl(fd_.fd(), EPOLL_CTL_DEL, fd, nullptr); }

std::size_t Epoll::wait(std::span<epoll_event> events, Nanos deadline) {
  const Nanos left = deadline - now_ns();
  timespec timeout{};
  if (left > 0) {
    timeout.tv_sec = static_cast<time_t>(left / kNanosPerSecond);
    timeout.tv_nsec = static_cast<long>(left % kNanosPerSecond);
  }
  const int n =
      ::epoll_pwait2(fd_.fd(), events.data(), static_cast<int>(events.size()), &timeout, nullptr);
  if (n < 0) {
    if (errno == EINTR) return 0;
    throw_errno("epoll_pwait2");
  }
  return static_cast<std::size_t>(n);
}

}  // namespace achat::load
