// DeadlineStream: Boost.Beast's synchronous stream concepts over one accepted socket, with a
// deadline for the whole exchange. Beast's own sync streams have no timeouts (asio's sync reads
// ignore SO_RCVTIMEO and wait in poll() forever), so a scraper that sends nothing would hold
// the thread; here every read and write waits at most until the deadline or a stop.
#pragma once

#include <sys/uio.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstddef>

#include "achat/socket.h"
#include "stop_signal.h"

namespace achat::metrics {

// Used by one thread for one request and its response; borrows the socket and the signal, which
// must outlive it. Satisfies SyncReadStream and SyncWriteStream, so http::read and http::write
// work on it. Once the deadline has passed every call fails with beast::error::timeout; once the
// signal is raised, with asio's operation_aborted.
class DeadlineStream {
 public:
  DeadlineStream(const Socket& socket, const StopSignal& stop,
                 std::chrono::steady_clock::time_point deadline) noexcept
      : socket_(socket), stop_(stop), deadline_(deadline) {}

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& error) {
    Chunks chunks;
    return transfer(Direction::in, chunks.data(),
                    gather<boost::asio::mutable_buffer>(buffers, chunks), error);
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, boost::system::error_code& error) {
    Chunks chunks;
    return transfer(Direction::out, chunks.data(),
                    gather<boost::asio::const_buffer>(buffers, chunks), error);
  }
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    return or_throw([&](auto& error) { return read_some(buffers, error); });
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers) {
    return or_throw([&](auto& error) { return write_some(buffers, error); });
  }

 private:
  using Chunks = std::array<iovec, 16>;  // one recvmsg/sendmsg takes at most this many buffers

  template <class Buffer, class Buffers>
  static std::size_t gather(const Buffers& buffers, Chunks& chunks) {
    std::size_t count = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && count < chunks.size(); ++it) {
      const Buffer buffer(*it);
      chunks[count++] = iovec{const_cast<void*>(static_cast<const void*>(buffer.data())), buffer.size()};
    }
    return count;
  }
  template <class Call>
  static std::size_t or_throw(Call call) {
    boost::system::error_code error;
    const std::size_t bytes = call(error);
    if (error) throw boost::system::system_error(error);
    return bytes;
  }

  enum class Direction { in, out };
  // One recvmsg or sendmsg once the socket is ready: bytes moved, or 0 with `error` set.
  std::size_t transfer(Direction direction, iovec* chunks, std::size_t count,
                       boost::system::error_code& error);
  // Waits until the socket is ready for `events`; false with `error` set on deadline or stop.
  bool wait(short events, boost::system::error_code& error) const;

  const Socket& socket_;
  const StopSignal& stop_;
  const std::chrono::steady_clock::time_point deadline_;
};

}  // namespace achat::metrics
