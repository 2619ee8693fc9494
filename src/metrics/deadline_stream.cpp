#include "deadline_stream.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <cerrno>

namespace achat::metrics {

namespace {

std::size_t total_bytes(const iovec* chunks, std::size_t count) {
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += chunks[i].iov_len;
  return total;
}

}  // namespace

bool DeadlineStream::wait(short events, boost::system::error_code& error) const {
  switch (stop_.wait(socket_.fd(), events, deadline_)) {
    case StopSignal::Wake::ready:
      return true;
    case StopSignal::Wake::timed_out:
      error = boost::beast::error::timeout;
      return false;
    case StopSignal::Wake::stopped:
      error = boost::asio::error::operation_aborted;
      return false;
  }
  return false;
}

std::size_t DeadlineStream::transfer(Direction direction, iovec* chunks, std::size_t count,
                                     boost::system::error_code& error) {
  error = {};
  if (total_bytes(chunks, count) == 0) return 0;
  msghdr message{};
  message.msg_iov = chunks;
  message.msg_iovlen = count;
  const bool in = direction == Direction::in;
  while (wait(in ? POLLIN : POLLOUT, error)) {
    const ssize_t moved = in ? ::recvmsg(socket_.fd(), &message, MSG_DONTWAIT)
                             : ::sendmsg(socket_.fd(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (moved > 0) return static_cast<std::size_t>(moved);
    if (moved == 0) {
      error = boost::asio::error::eof;
      return 0;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      error.assign(errno, boost::system::system_category());
      return 0;
    }
  }
  return 0;
}

}  // namespace achat::metrics
