// The layer under a browser's Beast stream: the Connection's TCP socket, borrowed, never closed.
// Included only by web_session.cpp, the one translation unit with Beast in it.
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <spdlog/spdlog.h>

#include "achat/fault_hooks.h"
#include "achat/socket.h"
#include "achat/stats.h"

namespace achat::web {

// The next layer of the session's websocket::stream: an Asio socket on the session's io_context
// over the Connection's fd. Its Asio side is used only inside that io_context, i.e. on the
// session's reader thread; send_frames() is the writer thread's. It promises four things Beast's
// own tcp::socket layer cannot:
//
// 1. The fd is never closed here. Beast closes its socket after a close handshake (teardown) and
//    on a timeout (close_socket); the Connection then closed the same number a second time,
//    after the kernel could have given it to another connection or to another session's epoll,
//    eventfd or timerfd (seen as a reply never written, a writer waiting forever at shutdown, a
//    SIGSEGV). Both customisation points (teardown, async_teardown, beast_close_socket, found
//    by ADL) only shut the socket down, and the destructor releases the fd: the Connection,
//    which other threads shut down by that fd, closes it once, last.
// 2. At end of stream the reader's read can be held (park_at_eof): the read that sees EOF (the
//    client half-closed, or the server shut reading down to stop) is kept, not completed, so
//    Beast does not fail the stream and cancel a write in flight; read_parked() tells the
//    reader that reading has ended. complete_parked() hands the read its end later, when the
//    writer is done.
// 3. Two threads write, and the bytes on the wire are still whole frames, one thread's at a
//    time. The writer thread sends its batches of data frames itself (send_frames: one encoding
//    pass, one send() when the socket buffer has room, no hand-over to the reader thread); the
//    reader thread runs Beast, whose pongs, keep-alive pings and close frames come through
//    async_write_some. Under wire_mutex_, the socket knows where Beast's frames end: once the
//    upgrade is done (start_framing), the first write of each of Beast's frames is parsed for
//    the frame's length (Beast 1.74, server role, as the session uses it: each of its control
//    frames is one net::async_write of a whole unmasked frame, and the session never calls
//    Beast's write, whose masking and fragmenting paths are the only ones that split a frame
//    differently), and the bytes written are counted down. A batch starts only when none of
//    Beast's frames is partly written and no write of its is in flight; while a batch is being
//    written, a write Beast starts is held, not started, and handed back to the reader thread
//    (posted into the io_context) when the batch has been written or has failed. So a pong or
//    a close frame never lands inside our frames, nor ours inside Beast's.
// 4. Nothing of ours follows a close frame. The first close frame Beast starts (its reply to
//    the client's close, a protocol error's 1002/1007/1009, the session's own close) and any
//    failed write of Beast's end the wire for send_frames(), which then refuses every batch
//    (EPIPE): RFC 6455 forbids data after a close frame.
// Every socket write, Beast's and ours, is counted in `writes` (the server's web_socket_writes).
class BorrowedSocket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using error_code = boost::system::error_code;

  BorrowedSocket(boost::asio::io_context& ioc, const Socket& connection_socket, Stats::Counter& writes,
                 const FaultHooks& hooks)
      : socket_(ioc), connection_socket_(connection_socket), writes_(writes), hooks_(hooks) {
    const int fd = connection_socket.fd();
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    socket_.assign(address.ss_family == AF_INET6 ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(), fd);
  }
  ~BorrowedSocket() {
    error_code error;
    socket_.release(error);  // deregistered from the io_context, not closed
    // Fails only if something closed the fd under the Connection (promise 1 broken): say so,
    // the web tests fail on any error line in the server's log.
    if (error) spdlog::error("web connection: its socket was closed before its Connection: {}", error.message());
  }
  BorrowedSocket(const BorrowedSocket&) = delete;
  BorrowedSocket& operator=(const BorrowedSocket&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }

  template <class Buffers, class Handler>
  auto async_read_some(const Buffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, std::size_t)>(
        [this](auto&& done, const Buffers& into) {
          if (!unread_.empty()) {  // bytes the HTTP read took past the request, first
            const std::size_t n = boost::asio::buffer_copy(into, boost::asio::buffer(unread_));
            unread_.erase(0, n);
            bytes_read_ += n;
            if (unread_.empty()) std::string().swap(unread_);
            boost::asio::post(socket_.get_executor(),
                              boost::beast::bind_front_handler(std::move(done), error_code{}, n));
            return;
          }
          socket_.async_read_some(into, ReadDone<std::decay_t<decltype(done)>>{this, std::move(done)});
        },
        handler, buffers);
  }
  // Beast's writes (and the session's own, before the upgrade and in its close), on the reader
  // thread. See 3 and 4.
  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, std::size_t)>(
        [this](auto&& done, const Buffers& from) {
          using Done = WriteDone<std::decay_t<decltype(done)>>;
          std::unique_lock lock(wire_mutex_);
          note_frame_start(from);
          ++writes_in_flight_;
          if (frames_in_flight_) {
            // Beast starts one frame at a time (its wr_block), and only a frame's first write
            // can meet a batch in flight (a batch never starts inside a frame): one held at most.
            assert(!held_write_);
            held_write_ = std::make_unique<HeldWrite<Buffers, Done>>(*this, from, Done{this, std::move(done)});
            return;
          }
          lock.unlock();
          start_write(from, Done{this, std::move(done)});
        },
        handler, buffers);
  }

  // Bytes read from the socket before the stream took it over: the HTTP read of the upgrade
  // request may take frames a client sent right behind it (RFC 6455 asks clients to wait for the
  // 101; not every one does). The next reads return them first, so they are not lost.
  void unread(boost::asio::const_buffer bytes) {
    unread_.append(static_cast<const char*>(bytes.data()), bytes.size());
  }
  // The upgrade is done: from now on every write is WebSocket frames (see 3).
  void start_framing() {
    std::lock_guard lock(wire_mutex_);
    framing_ = true;
  }

  // The writer thread: writes `frames`, whole frames of ours, once no frame of Beast's is on its
  // way, with send() on the fd (see 3). False with errno set if they did not all go out: EAGAIN
  // if no byte could be written (or Beast's frame did not finish) within `stall`, EPIPE if the
  // wire has ended (4), else send()'s own error.
  bool send_frames(std::string_view frames, std::chrono::milliseconds stall) {
    {
      std::unique_lock lock(wire_mutex_);
      // A close frame of Beast's is written whole before the batch is refused.
      if (!wire_idle_.wait_for(lock, stall, [this] { return wire_idle(); })) {
        errno = EAGAIN;
        return false;
      }
      if (wire_ended_) {
        errno = EPIPE;
        return false;
      }
      frames_in_flight_ = true;
    }
    if (hooks_.while_web_frames_go) {
      hooks_.while_web_frames_go([this] {
        std::lock_guard lock(wire_mutex_);
        return held_write_ != nullptr;
      });
    }
    std::uint64_t sends = 0;
    const bool sent = connection_socket_.send_all_polling(frames, stall, sends);
    const int error = errno;
    Stats::add(writes_, sends);
    std::unique_ptr<Held> held;
    {
      std::lock_guard lock(wire_mutex_);
      frames_in_flight_ = false;
      held = std::move(held_write_);
    }
    if (held) {
      boost::asio::post(socket_.get_executor(), [held = std::shared_ptr<Held>(std::move(held))] { held->start(); });
    }
    errno = error;
    return sent;
  }

  // Bytes read from the client so far, frames of every kind: what tells that it is alive.
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }
  // While on, a read that meets end of stream is held instead of completed (see 2 above).
  void park_at_eof(bool on) noexcept { park_at_eof_ = on; }
  bool read_parked() const noexcept { return static_cast<bool>(parked_); }
  // Completes the held read, if any, with `error`, now (from a handler of the session's own,
  // never from inside a Beast operation).
  void complete_parked(error_code error) {
    if (auto parked = std::move(parked_)) parked->complete(error);
  }
  // Reader thread, once the writer thread has sent its last batch (the session's finish()): runs
  // `then` from its own handler once no write of Beast's is in flight and none of its frames is
  // partly written (at once if so). Only Beast's write completions can make the wire idle then.
  void when_writes_idle(std::function<void()> then) {
    idle_waiter_ = std::move(then);
    post_idle_check();
  }
  void shutdown_write() noexcept {
    error_code ignored;
    socket_.shutdown(boost::asio::socket_base::shutdown_send, ignored);
  }

  // Beast's "close the socket" (its idle or close-handshake timeout): cut the connection
  // instead, and end every operation on it, the held read too.
  friend void beast_close_socket(BorrowedSocket& socket) {
    error_code ignored;
    socket.socket_.shutdown(boost::asio::socket_base::shutdown_both, ignored);
    socket.socket_.cancel(ignored);
    boost::asio::post(socket.get_executor(), [&socket] {
      socket.complete_parked(boost::asio::error::operation_aborted);
    });
  }
  // Beast's teardown after a close handshake: our FIN, nothing more. What the client still
  // sends is drained by the session's linger, within its time budget.
  friend void teardown(boost::beast::role_type, BorrowedSocket& socket, error_code& error) {
    error = {};
    socket.shutdown_write();
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type, BorrowedSocket& socket, Handler&& handler) {
    socket.shutdown_write();
    boost::asio::post(socket.get_executor(),
                      boost::beast::bind_front_handler(std::forward<Handler>(handler), error_code{}));
  }

 private:
  struct Parked {
    virtual ~Parked() = default;
    virtual void complete(error_code error) = 0;
  };
  template <class Handler>
  struct ParkedRead final : Parked {
    explicit ParkedRead(Handler&& h) : handler(std::move(h)) {}
    void complete(error_code error) override { handler(error, std::size_t{0}); }
    Handler handler;
  };
  struct Held {
    virtual ~Held() = default;
    virtual void start() = 0;
  };
  template <class Buffers, class Done>
  struct HeldWrite final : Held {
    HeldWrite(BorrowedSocket& s, const Buffers& b, Done&& d) : socket(s), buffers(b), done(std::move(d)) {}
    void start() override { socket.start_write(buffers, std::move(done)); }
    BorrowedSocket& socket;
    Buffers buffers;
    Done done;
  };
  template <class Handler>
  struct ReadDone {
    BorrowedSocket* self;
    Handler handler;
    void operator()(error_code error, std::size_t n) {
      self->bytes_read_ += n;
      if (error == boost::asio::error::eof && self->park_at_eof_) {
        self->parked_ = std::make_unique<ParkedRead<Handler>>(std::move(handler));
        return;
      }
      handler(error, n);
    }
  };
  template <class Handler>
  struct WriteDone {
    BorrowedSocket* self;
    Handler handler;
    void operator()(error_code error, std::size_t n) {
      {
        // Counted down before the handler, which may start Beast's next frame.
        std::lock_guard lock(self->wire_mutex_);
        self->frame_left_ -= std::min<std::uint64_t>(n, self->frame_left_);
        if (error) {  // the frame will never be finished: nothing more goes on this wire
          self->frame_left_ = 0;
          self->wire_ended_ = true;
        }
      }
      handler(error, n);  // may start the frame's next write_some
      bool idle = false;
      {
        std::lock_guard lock(self->wire_mutex_);
        --self->writes_in_flight_;
        idle = self->wire_idle();
      }
      if (idle) {
        self->wire_idle_.notify_one();
        if (self->idle_waiter_) self->post_idle_check();
      }
    }
  };

  bool wire_idle() const { return writes_in_flight_ == 0 && frame_left_ == 0 && !frames_in_flight_; }

  // Under wire_mutex_, as a write starts: at a frame boundary, the frame's length from its
  // header, and whether it is a close frame (see 3 and 4).
  template <class Buffers>
  void note_frame_start(const Buffers& from) {
    if (!framing_ || frame_left_ != 0) return;
    std::array<unsigned char, 10> header{};
    const std::size_t got = boost::asio::buffer_copy(boost::asio::buffer(header), from);
    if (got < 2) return;
    std::uint64_t payload = header[1] & 0x7F;
    std::uint64_t header_bytes = 2;
    if (payload == 126) {
      header_bytes = 4;
      payload = (std::uint64_t{header[2]} << 8) | header[3];
    } else if (payload == 127) {
      header_bytes = 10;
      payload = 0;
      for (std::size_t i = 2; i < 10; ++i) payload = (payload << 8) | header[i];
    }
    if (header[1] & 0x80) header_bytes += 4;  // a mask key (never in a server's frames)
    frame_left_ = header_bytes + payload;
    if ((header[0] & 0x0F) == 0x8) wire_ended_ = true;
  }

  template <class Buffers, class Done>
  void start_write(const Buffers& from, Done&& done) {
    Stats::add(writes_);
    socket_.async_write_some(from, std::move(done));
  }

  void post_idle_check() {
    boost::asio::post(socket_.get_executor(), [this] {
      if (!idle_waiter_) return;
      {
        std::lock_guard lock(wire_mutex_);
        if (!wire_idle()) return;  // a later completion checks again
      }
      std::exchange(idle_waiter_, {})();
    });
  }

  boost::asio::ip::tcp::socket socket_;
  const Socket& connection_socket_;  // the Connection's: its fd is the one socket_ borrows
  Stats::Counter& writes_;
  const FaultHooks& hooks_;  // tests only
  // Reader thread only.
  bool park_at_eof_ = false;
  std::unique_ptr<Parked> parked_;
  std::function<void()> idle_waiter_;
  std::string unread_;  // see unread()
  std::uint64_t bytes_read_ = 0;
  // Between the reader thread's writes and the writer thread's (see 3 and 4).
  std::mutex wire_mutex_;
  std::condition_variable wire_idle_;  // notified when the wire becomes idle
  bool framing_ = false;
  std::uint64_t frame_left_ = 0;       // bytes of Beast's current frame not yet written
  std::size_t writes_in_flight_ = 0;   // Beast's (and the session's) async writes
  bool frames_in_flight_ = false;      // the writer thread is sending a batch
  bool wire_ended_ = false;            // a close frame started, or a write failed
  std::unique_ptr<Held> held_write_;   // Beast's write, held while a batch is in flight
};

}  // namespace achat::web
