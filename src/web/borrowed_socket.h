// The layer under a browser's Beast stream: the Connection's TCP socket, borrowed, never closed.
// Included only by web_session.cpp, the one translation unit with Beast in it.
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <cassert>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <spdlog/spdlog.h>

#include "achat/stats.h"

namespace achat::web {

// The next layer of the session's websocket::stream: an Asio socket on the session's io_context
// over the Connection's fd. Used only inside that io_context, i.e. on the session's reader
// thread. It promises four things Beast's own tcp::socket layer cannot:
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
// 3. It counts the socket writes in flight, Beast's and ours. Each frame Beast sends is one
//    composed write whose next write_some starts inside the previous one's completion, so when
//    none is in flight the bytes on the wire end at a frame boundary: when_writes_idle() runs a
//    function then. (Beast 1.74, server role, as the session uses it: its pongs and close
//    replies (impl/read.hpp), its close (impl/close.hpp) and its keep-alive pings (idle_ping_op,
//    impl/ping.hpp) are each one net::async_write of a whole frame from its own buffer, and its
//    wr_block lets one of them write at a time. The session never calls Beast's write, whose
//    masking and fragmenting paths are the only ones that split a frame over several writes.)
// 4. A batch of whole frames of ours goes out with socket writes of our own (write_batch): it
//    starts only from when_writes_idle(), so after a whole frame of Beast's; while it is in
//    flight a write Beast starts (a pong, a ping, a close frame) is held, not started, and
//    started as soon as the batch has been written or has failed, so Beast's frame goes whole
//    after ours and its close frame, and then its teardown, after everything we wrote.
// Every socket write it starts is counted in `writes` (the server's web_socket_writes).
class BorrowedSocket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using error_code = boost::system::error_code;

  BorrowedSocket(boost::asio::io_context& ioc, int fd, Stats::Counter& writes)
      : socket_(ioc), writes_(writes) {
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
            if (unread_.empty()) std::string().swap(unread_);
            boost::asio::post(socket_.get_executor(),
                              boost::beast::bind_front_handler(std::move(done), error_code{}, n));
            return;
          }
          socket_.async_read_some(into, ReadDone<std::decay_t<decltype(done)>>{this, std::move(done)});
        },
        handler, buffers);
  }
  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, std::size_t)>(
        [this](auto&& done, const Buffers& from) {
          using Done = WriteDone<std::decay_t<decltype(done)>>;
          ++writes_in_flight_;
          if (batch_in_flight_) {
            // Beast's write_some calls are serialised by its wr_block: never two held at once.
            assert(!held_write_);
            held_write_ = std::make_unique<HeldWrite<Buffers, Done>>(*this, from, Done{this, std::move(done)});
            return;
          }
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

  // While on, a read that meets end of stream is held instead of completed (see 2 above).
  void park_at_eof(bool on) noexcept { park_at_eof_ = on; }
  bool read_parked() const noexcept { return static_cast<bool>(parked_); }
  // Completes the held read, if any, with `error`, now (from a handler of the session's own,
  // never from inside a Beast operation).
  void complete_parked(error_code error) {
    if (auto parked = std::move(parked_)) parked->complete(error);
  }
  // Runs `then` from its own handler once no socket write is in flight (at once if none is).
  void when_writes_idle(std::function<void()> then) {
    idle_waiter_ = std::move(then);
    post_idle_check();
  }
  // Writes `bytes`, whole frames of ours, with write_somes of its own (see 4). Call it only
  // from the function when_writes_idle() ran, at once. `progress(n)` is called for each part
  // written, then `done(error)` once all is written or a write failed (a shut-down socket makes
  // it fail); `bytes` must stay valid until then.
  void write_batch(boost::asio::const_buffer bytes, std::function<void(std::size_t)> progress,
                   std::function<void(error_code)> done) {
    assert(writes_in_flight_ == 0 && !batch_in_flight_);
    batch_in_flight_ = true;
    write_batch_part(bytes, std::move(progress), std::move(done));
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
      --self->writes_in_flight_;
      handler(error, n);  // may start the frame's next write_some
      if (self->writes_in_flight_ == 0 && self->idle_waiter_) self->post_idle_check();
    }
  };

  template <class Buffers, class Done>
  void start_write(const Buffers& from, Done&& done) {
    Stats::add(writes_);
    socket_.async_write_some(from, std::move(done));
  }
  void write_batch_part(boost::asio::const_buffer rest, std::function<void(std::size_t)> progress,
                        std::function<void(error_code)> done) {
    Stats::add(writes_);
    socket_.async_write_some(rest, [this, rest, progress = std::move(progress),
                                    done = std::move(done)](error_code error, std::size_t n) mutable {
      if (n > 0) progress(n);
      if (!error && n < rest.size()) return write_batch_part(rest + n, std::move(progress), std::move(done));
      batch_in_flight_ = false;
      if (auto held = std::move(held_write_)) held->start();
      done(error);
      if (writes_in_flight_ == 0 && idle_waiter_) post_idle_check();
    });
  }

  void post_idle_check() {
    boost::asio::post(socket_.get_executor(), [this] {
      // A later completion checks again.
      if (writes_in_flight_ != 0 || batch_in_flight_ || !idle_waiter_) return;
      std::exchange(idle_waiter_, {})();
    });
  }

  boost::asio::ip::tcp::socket socket_;
  Stats::Counter& writes_;
  bool park_at_eof_ = false;
  std::unique_ptr<Parked> parked_;
  std::size_t writes_in_flight_ = 0;
  std::function<void()> idle_waiter_;
  bool batch_in_flight_ = false;
  std::unique_ptr<Held> held_write_;  // Beast's write, held while a batch is in flight
  std::string unread_;                // see unread()
};

}  // namespace achat::web
