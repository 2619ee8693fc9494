// The layer under a browser's Beast stream: the Connection's TCP socket, borrowed, never closed.
// Included only by web_session.cpp, the one translation unit with Beast in it.
#pragma once

#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <spdlog/spdlog.h>

namespace achat::web {

// The next layer of the session's websocket::stream: an Asio socket on the session's io_context
// over the Connection's fd. Used only inside that io_context, i.e. on the session's reader
// thread. It promises three things Beast's own tcp::socket layer cannot:
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
// 3. It counts the socket writes in flight. Each frame Beast sends is one composed write whose
//    next write_some starts inside the previous one's completion, so when none is in flight the
//    bytes on the wire end at a frame boundary: when_writes_idle() runs a function then.
class BorrowedSocket {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using error_code = boost::system::error_code;

  BorrowedSocket(boost::asio::io_context& ioc, int fd) : socket_(ioc) {
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
          socket_.async_read_some(into, ReadDone<std::decay_t<decltype(done)>>{this, std::move(done)});
        },
        handler, buffers);
  }
  template <class Buffers, class Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    return boost::asio::async_initiate<Handler, void(error_code, std::size_t)>(
        [this](auto&& done, const Buffers& from) {
          ++writes_in_flight_;
          socket_.async_write_some(from, WriteDone<std::decay_t<decltype(done)>>{this, std::move(done)});
        },
        handler, buffers);
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

  void post_idle_check() {
    boost::asio::post(socket_.get_executor(), [this] {
      if (writes_in_flight_ != 0 || !idle_waiter_) return;  // a later completion checks again
      std::exchange(idle_waiter_, {})();
    });
  }

  boost::asio::ip::tcp::socket socket_;
  bool park_at_eof_ = false;
  std::unique_ptr<Parked> parked_;
  std::size_t writes_in_flight_ = 0;
  std::function<void()> idle_waiter_;
};

}  // namespace achat::web
