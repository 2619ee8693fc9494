#include "web_session.h"

#include <array>
#include <memory>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <spdlog/spdlog.h>

#include "borrowed_socket.h"
#include "origin.h"
#include "page.h"
#include "text_frames.h"
#include "writer.h"

namespace achat::web {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using beast::error_code;

// A request's headers may not exceed this (RFC 6455 sets no limit; browsers send ~1 KiB).
constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;
// A peer that sends nothing for this long is pinged; one silent for twice as long is cut. The
// browser answers pings by itself, so only a vanished peer reaches it.
constexpr std::chrono::seconds kIdleTimeout{60};

constexpr std::string_view kServerName = "a-chat";

// A batch buffer larger than this is freed once written (a burst's), a smaller one kept.
constexpr std::size_t kKeptBatchBytes = 4 * 1024;
// What the linger reads (and discards) at a time.
constexpr std::size_t kLingerChunk = 4 * 1024;

// WebSession on Beast: owns the io_context, its work guard (released by finish()), the
// websocket::stream over a BorrowedSocket (the Connection's fd, never closed here), the
// reader's buffers and the writer's batch of frames. Promises one frame per line, in order; a
// write is never started before the upgrade or after a close; everything a send() returned true
// for went out whole, a server stop included.
//
// Which thread touches the stream, and when (why frames cannot be corrupted or lost):
// - Only the reader thread runs ioc_, and the stream, its socket and every member marked
//   "reader thread" are used only inside ioc_. The writer thread never touches them: it posts
//   its writes (send: a batch of lines) and its close (finish) into ioc_ and waits on
//   mutex_/written_ for them to complete. So reads, our writes, and the pongs, pings and close
//   frames Beast sends are all started by one thread.
// - A batch goes out in one go, not one Beast write (one write_some, one io_context completion)
//   per line: the batch's frames are built here (text_frames.h: unmasked text frames, simple
//   for a server) into one buffer, and written with the socket's write_batch (BorrowedSocket, 4)
//   once no frame of Beast's is on its way (BorrowedSocket, 3); Beast's pongs, pings and close
//   frames wait at the socket while ours are written, and go whole after them. So a pong or a
//   close never lands inside or between the bytes of our frames, and the stream is checked
//   open right before the batch starts: after Beast has started closing, nothing of ours goes.
//   Why this and not a cork under Beast's own writes: those would still cost one composed
//   operation and one completion per line; here the batch costs one post, one encoding pass and
//   (socket buffer permitting) one send(). The buffer (batch_) holds the batch's lines plus at
//   most 10 bytes of header each: bounded by the batch the writer already holds (64 lines), and
//   freed after a batch over kKeptBatchBytes, so an idle browser keeps no large buffer.
// - Until the writer has finished, the reader thread runs ioc_: inside next() while reading, and
//   in serve_writes() once reading has ended; so a posted write always runs and completes.
// - The end of reading never cancels a write. A close frame from the client, a protocol error
//   or a timeout end the stream (Beast sends the close frame, after a batch in flight, and
//   writes nothing more); the next batch then fails and the writer ends the connection, as for
//   TCP. End of stream without a close frame (the client half-closed, or the server stopping
//   shut reading down) does not fail the stream: the socket holds that read (BorrowedSocket, 2),
//   next() returns end_of_stream, and the writer goes on delivering. When it finishes,
//   once no socket write is in flight (BorrowedSocket, 3), the held read is completed (Beast
//   then fails the stream and starts nothing more) and the close frame, 1001, is written here.
// - The fd is the Connection's alone to close (BorrowedSocket, 1): other threads shut it down
//   (the broker's cut, the server's stop, the writer's stall cut) by that number at any time.
class BeastSession final : public WebSession {
 public:
  BeastSession(std::shared_ptr<Connection> connection, const WebConfig& config,
               const Limits& limits, Stats& stats)
      : connection_(std::move(connection)), config_(config), limits_(limits),
        guard_(ioc_.get_executor()), ws_(ioc_, connection_->socket().fd(), stats.web_socket_writes),
        timer_(ioc_) {}

  // --- LineSource: the reader thread ---

  Status next(std::string_view& line) override {
    if (!upgraded_.load(std::memory_order_relaxed)) {
      if (const auto status = handshake()) return *status;
    }
    read_buffer_.clear();
    read_done_ = false;
    ws_.next_layer().park_at_eof(true);
    // The handler outlives this call when the read is held: it touches members only.
    ws_.async_read(read_buffer_, [this](error_code e, std::size_t) {
      read_error_ = e;
      read_done_ = true;
    });
    if (!run_until([this] { return read_done_ || ws_.next_layer().read_parked(); })) {
      return fail("web connection's io_context stopped");
    }
    if (timed_out_) return fail("login timeout");
    // End of stream without a close frame: the read stays held and the stream open, so the
    // writer still delivers everything queued (see the class comment).
    if (!read_done_) return Status::end_of_stream;
    ws_.next_layer().park_at_eof(false);
    if (read_error_) return read_failed(read_error_);
    if (ws_.got_binary()) {
      close_now(websocket::close_code::unknown_data, "binary messages are not accepted");
      return fail("binary message (closed 1003)");
    }
    line = std::string_view(static_cast<const char*>(read_buffer_.data().data()), read_buffer_.size());
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return Status::refused;
    }
    return Status::line;
  }
  void set_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) override {
    deadline_ = deadline;
  }
  bool has_buffered_line() override { return false; }  // one message per read
  std::string failure() const override { return failure_; }

  void serve_writes() noexcept override {
    while (true) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& error) {
        spdlog::error("{}: web connection: {}", connection_->address(), error.what());
      }
    }
  }
  void abandon() noexcept override { abandoned_.store(true, std::memory_order_release); }

  // --- LineSink: the writer thread ---

  bool send(std::span<const OutboundLine> lines) override {
    if (abandoned_.load(std::memory_order_acquire) || !upgraded_.load(std::memory_order_acquire)) {
      errno = ENOTCONN;
      return false;
    }
    {
      std::lock_guard lock(mutex_);
      write_done_ = false;
      write_error_ = {};
    }
    net::post(ioc_, [this, lines] { write_batch(lines); });
    std::unique_lock lock(mutex_);
    const auto stall = std::chrono::milliseconds(limits_.write_stall_ms);
    while (!write_done_) {
      const std::uint64_t before = bytes_written_;
      if (!written_.wait_for(lock, stall, [&] { return write_done_; }) &&
          bytes_written_ == before) {
        // Not one byte went out for the stall deadline: cut, then wait for the write (which
        // fails now) to let go of `lines`. The reason is recorded first: the cut also ends the
        // reader, whose own reason (a cancelled read) would otherwise be the one logged.
        connection_->end_with(stall_reason(limits_.write_stall_ms, connection_->queued()));
        connection_->socket().shutdown_both();
        written_.wait(lock, [&] { return write_done_; });
        errno = EAGAIN;
        return false;
      }
    }
    if (write_error_) {
      errno = write_error_ == net::error::connection_reset ? ECONNRESET : EPIPE;
      return false;
    }
    return true;
  }

  void finish(bool healthy) override {
    if (abandoned_.load(std::memory_order_acquire)) return;
    if (healthy && upgraded_.load(std::memory_order_acquire)) {
      {
        std::lock_guard lock(mutex_);
        write_done_ = false;
      }
      net::post(ioc_, [this] { close_then_linger(); });
      // The close and the linger get kLingerTime in all, as for TCP; then the cut ends whatever
      // of them is still waiting (every operation on a shut-down socket completes).
      std::unique_lock lock(mutex_);
      if (!written_.wait_for(lock, kLingerTime, [&] { return write_done_; })) {
        connection_->socket().shutdown_both();
        written_.wait(lock, [&] { return write_done_; });
      }
    }
    // Nothing of ours is pending now; stop() also ends Beast's idle timer, which would keep
    // run() going. A read still held (an unhealthy end) is ended first.
    net::post(ioc_, [this] {
      ws_.next_layer().park_at_eof(false);
      ws_.next_layer().complete_parked(net::error::operation_aborted);
      guard_.reset();
      ioc_.stop();
    });
  }

 private:
  Status fail(std::string why) {
    failure_ = std::move(why);
    return Status::failed;
  }

  // Runs the io_context on this (the reader) thread until `done()`, cutting the connection if
  // the deadline passes first (timed_out_ then tells). False if the io_context stopped first
  // (only finish() stops it, after reading has ended: not expected).
  template <class Done>
  bool run_until(Done done) {
    timed_out_ = false;
    if (deadline_) {
      waiting_ = true;
      timer_pending_ = true;
      timer_.expires_at(*deadline_);
      timer_.async_wait([this](error_code error) {
        timer_pending_ = false;
        if (!error && waiting_) {
          timed_out_ = true;
          connection_->socket().shutdown_both();
        }
      });
    }
    bool running = true;
    while (running && !done()) running = ioc_.run_one() != 0;
    if (deadline_) {
      waiting_ = false;
      timer_.cancel();
      while (running && timer_pending_) running = ioc_.run_one() != 0;
    }
    return running;
  }

  Status read_failed(const error_code& error) {
    if (error == websocket::error::closed) return Status::end_of_stream;
    if (error == websocket::error::message_too_big) {
      return fail("message over " + std::to_string(limits_.max_line_bytes) + " bytes (closed 1009)");
    }
    if (error == net::error::connection_reset) return fail("reset");
    return fail(error.message());
  }

  // Sends a close frame and waits (within the deadline, if any) for the close handshake.
  void close_now(websocket::close_code code, std::string_view reason) {
    bool done = false;
    ws_.async_close(websocket::close_reason(code, reason), [&](error_code) { done = true; });
    run_until([&] { return done; });
  }

  // Reads HTTP requests until one is a valid WebSocket upgrade (then returns nullopt with the
  // stream open), serving the page's assets on the way; otherwise the Status to end with.
  std::optional<Status> handshake() {
    while (true) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(kMaxHeaderBytes);
      bool done = false;
      error_code error;
      http::async_read(ws_.next_layer(), http_buffer_, parser, [&](error_code e, std::size_t) {
        error = e;
        done = true;
      });
      run_until([&] { return done; });
      if (timed_out_) return fail("login timeout (HTTP)");
      if (error == http::error::end_of_stream || error == net::error::eof) return Status::end_of_stream;
      if (error == http::error::header_limit) {
        respond(http::status::request_header_fields_too_large, "request headers over 8 KiB\n", false);
        return fail("request headers over 8 KiB");
      }
      if (error) {
        respond(http::status::bad_request, "bad request\n", false);
        return fail("bad HTTP request: " + error.message());
      }
      auto request = parser.release();
      std::string_view target = request.target();
      const std::string_view path = target.substr(0, target.find('?'));
      if (websocket::is_upgrade(request)) return upgrade(request, path);
      if (request.method() != http::verb::get && request.method() != http::verb::head) {
        respond(http::status::method_not_allowed, "GET only\n", false);
        return fail("HTTP method not allowed");
      }
      const Asset* asset = find_asset(path);
      if (!asset) {
        respond(http::status::not_found, "not found\n", request.keep_alive(), request);
      } else {
        respond(http::status::ok, asset->body, request.keep_alive(), request, asset->content_type,
                request.method() == http::verb::head);
      }
      if (timed_out_) return fail("login timeout (HTTP)");
      if (!request.keep_alive()) {
        connection_->socket().shutdown_write();
        return fail("served HTTP");
      }
    }
  }

  std::optional<Status> upgrade(const http::request<http::empty_body>& request, std::string_view path) {
    if (path != "/ws") {
      respond(http::status::not_found, "WebSocket endpoint is /ws\n", false);
      return fail("WebSocket upgrade on " + std::string(path));
    }
    const std::string_view origin = request[http::field::origin];
    const std::string_view host = request[http::field::host];
    if (!origin_allowed(origin, host, config_.origins)) {
      respond(http::status::forbidden, "origin not allowed\n", false);
      return fail("Origin " + std::string(origin) + " not allowed for Host " + std::string(host) +
                  " (403)");
    }
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(http::field::server, kServerName);
    }));
    bool done = false;
    error_code error;
    ws_.async_accept(request, [&](error_code e) {
      error = e;
      done = true;
    });
    run_until([&] { return done; });
    if (timed_out_) return fail("login timeout (WebSocket handshake)");
    if (error) return fail("WebSocket handshake refused: " + error.message());
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(5);  // the close handshake
    timeouts.idle_timeout = kIdleTimeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.read_message_max(limits_.max_line_bytes);
    ws_.auto_fragment(false);
    ws_.text(true);
    // Whatever the HTTP read took past the request is the stream's to read first; the stream
    // reads into its own buffer from now on, so an idle browser does not keep the headers' one.
    ws_.next_layer().unread(http_buffer_.data());
    http_buffer_.consume(http_buffer_.size());
    http_buffer_.shrink_to_fit();
    upgraded_.store(true, std::memory_order_release);
    return std::nullopt;
  }

  // Writes one HTTP response (on the reader thread, before any WebSocket frame exists).
  void respond(http::status status, std::string_view body, bool keep_alive,
               const http::request<http::empty_body>& request = {},
               std::string_view content_type = "text/plain; charset=utf-8", bool head = false) {
    http::response<http::string_body> response{status, 11};
    response.set(http::field::server, kServerName);
    response.set(http::field::content_type, content_type);
    response.set(http::field::cache_control, "no-cache");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
    response.set("X-Frame-Options", "DENY");
    std::string policy =
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'; connect-src 'self'";
    if (const std::string_view host = request[http::field::host];
        !host.empty() && host.find_first_of(" ;'\"") == std::string_view::npos) {
      policy.append(" ws://").append(host).append(" wss://").append(host);
    }
    response.set("Content-Security-Policy", policy);
    if (status == http::status::upgrade_required) response.set(http::field::sec_websocket_version, "13");
    response.keep_alive(keep_alive);
    if (head) {
      response.content_length(body.size());
    } else {
      response.body() = std::string(body);
      response.prepare_payload();
    }
    bool done = false;
    http::async_write(ws_.next_layer(), response, [&](error_code, std::size_t) { done = true; });
    run_until([&] { return done; });
  }

  // Writer side, on the reader thread: one frame per line, in order, each without its "\n",
  // all in one buffer written in one go once no frame of Beast's is on its way (see the class
  // comment). Progress, for the stall deadline, is counted in bytes.
  void write_batch(std::span<const OutboundLine> lines) {
    ws_.next_layer().when_writes_idle([this, lines] {
      if (!ws_.is_open()) return write_finished(websocket::error::closed);
      encode_text_frames(lines, batch_);
      ws_.next_layer().write_batch(
          net::buffer(batch_),
          [this](std::size_t n) {
            std::lock_guard lock(mutex_);
            bytes_written_ += n;
          },
          [this](error_code error) {
            if (batch_.capacity() > kKeptBatchBytes) std::string().swap(batch_);
            write_finished(error);
          });
    });
  }

  // finish(), healthy, on the reader thread: the close frame, our FIN, then the linger.
  void close_then_linger() {
    BorrowedSocket& socket = ws_.next_layer();
    socket.park_at_eof(false);
    if (socket.read_parked()) {
      // Reading ended without a close frame; the stream is still open. Once no write is in
      // flight (Beast may be sending a keep-alive ping), the held read gets its end: Beast fails
      // the stream and starts nothing more, so the socket is ours to end with our own close
      // frame, "going away" (the usual case: the server is stopping).
      socket.when_writes_idle([this] {
        BorrowedSocket& socket = ws_.next_layer();
        socket.complete_parked(net::error::eof);
        static constexpr unsigned char kGoingAway[] = {0x88, 0x02, 0x03, 0xE9};
        net::async_write(socket, net::buffer(kGoingAway), [this](error_code, std::size_t) { linger(); });
      });
    } else if (ws_.is_open()) {
      ws_.async_close(websocket::close_code::normal, [this](error_code) { linger(); });
    } else {
      linger();
    }
  }
  // Sends our FIN and discards what the client still sends until it closes too (or the linger's
  // byte budget is spent; finish() bounds the time), so it reads our last frames, not a reset.
  void linger() {
    BorrowedSocket& socket = ws_.next_layer();
    socket.shutdown_write();
    if (!linger_buffer_) linger_buffer_ = std::make_unique<std::array<char, kLingerChunk>>();
    socket.async_read_some(net::buffer(*linger_buffer_), [this](error_code error, std::size_t n) {
      lingered_ += n;
      if (error || lingered_ >= kLingerBytes) return write_finished({});
      linger();
    });
  }

  void write_finished(error_code error) {
    std::lock_guard lock(mutex_);
    write_error_ = error;
    write_done_ = true;
    written_.notify_one();
  }

  const std::shared_ptr<Connection> connection_;
  const WebConfig& config_;
  const Limits& limits_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> guard_;  // released by finish()
  websocket::stream<BorrowedSocket> ws_;  // touched only inside ioc_, on the reader thread
  net::steady_timer timer_;            // the reader's deadline
  beast::flat_buffer http_buffer_;
  beast::flat_buffer read_buffer_;
  std::string batch_;  // the frames of the batch being written, reader thread only
  // Reader thread only.
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool waiting_ = false;
  bool timer_pending_ = false;
  bool timed_out_ = false;
  bool read_done_ = false;  // the reader's current read, whose handler may outlive next()
  error_code read_error_;
  // Allocated when the connection lingers, not before: 4 KiB in every idle session was a tenth
  // of what an idle WebSocket client costs.
  std::unique_ptr<std::array<char, kLingerChunk>> linger_buffer_;
  std::size_t lingered_ = 0;
  std::string failure_;
  // Set by the reader thread once the upgrade is done; read by the writer.
  std::atomic<bool> upgraded_{false};
  std::atomic<bool> abandoned_{false};
  // Between the writer thread and the writes it posted.
  std::mutex mutex_;
  std::condition_variable written_;
  bool write_done_ = false;        // guarded by mutex_
  error_code write_error_;         // guarded by mutex_
  std::uint64_t bytes_written_ = 0;  // guarded by mutex_
};

}  // namespace

std::shared_ptr<WebSession> WebSession::open(std::shared_ptr<Connection> connection,
                                             const WebConfig& config, const Limits& limits,
                                             Stats& stats) {
  return std::make_shared<BeastSession>(std::move(connection), config, limits, stats);
}

}  // namespace achat::web
