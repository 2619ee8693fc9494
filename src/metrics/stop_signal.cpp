#include "stop_signal.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

namespace achat::metrics {

StopSignal::StopSignal() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!event_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void StopSignal::raise() noexcept {
  const std::uint64_t one = 1;
  // Fails only if the counter would overflow, when it is raised already.
  [[maybe_unused]] const auto written = ::write(event_.fd(), &one, sizeof one);
}

StopSignal::Wake StopSignal::wait(
    int fd, short events, std::optional<std::chrono::steady_clock::time_point> deadline) const noexcept {
  using namespace std::chrono;
  while (true) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left = ceil<milliseconds>(*deadline - steady_clock::now()).count();
      if (left <= 0) return Wake::timed_out;
      timeout_ms = static_cast<int>(std::min<long long>(left, 60'000));
    }
    pollfd watched[2] = {{event_.fd(), POLLIN, 0}, {fd, events, 0}};
    const int ready = ::poll(watched, 2, timeout_ms);
    if (ready < 0 && errno != EINTR) return Wake::stopped;  // cannot wait: give up like a stop
    if (watched[0].revents != 0) return Wake::stopped;
    // Errors and hang-ups count as ready: the read or write that follows reports them.
    if (watched[1].revents != 0) return Wake::ready;
  }
}

}  // namespace achat::metrics
