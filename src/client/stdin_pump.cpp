#include "stdin_pump.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cerrno>
#include <string>
#include <system_error>

namespace achat::client {

namespace {

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) throw std::system_error(errno, std::generic_category(), "eventfd");
  return fd;
}

}  // namespace

StdinPump::StdinPump(int input_fd, const Socket& server)
    : input_fd_(input_fd), server_(server), wake_(make_eventfd()), thread_([this] { run(); }) {}

StdinPump::~StdinPump() {
  stop();
  // thread_ is destroyed (joined) next, before wake_ closes.
}

void StdinPump::stop() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t ignored = ::write(wake_.fd(), &one, sizeof one);
}

void StdinPump::run() noexcept {
  std::string pending;  // read but not yet sent: at most one unterminated line
  std::array<char, 16 * 1024> buffer{};
  for (;;) {
    std::array<pollfd, 2> fds{{{input_fd_, POLLIN, 0}, {wake_.fd(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;  // stop() was called
    if (fds[0].revents == 0) continue;

    const ssize_t got = ::read(input_fd_, buffer.data(), buffer.size());
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;  // end of input (a read error counts as the end too)
    pending.append(buffer.data(), static_cast<std::size_t>(got));
    const std::size_t last_newline = pending.rfind('\n');
    if (last_newline == std::string::npos) continue;
    if (!server_.send_all(std::string_view(pending).substr(0, last_newline + 1))) return;
    pending.erase(0, last_newline + 1);
  }
  if (!pending.empty()) {
    pending += '\n';
    if (!server_.send_all(pending)) return;
  }
  finished_.store(true, std::memory_order_release);
  server_.shutdown_write();
}

}  // namespace achat::client
