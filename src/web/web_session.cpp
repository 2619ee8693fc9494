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

constexpr std::string_view kServerName = "a-chat";

// A batch buffer larger than this is freed once written (a burst's), a smaller one kept.
constexpr std::size_t kKeptBatchBytes = 4 * 1024;
// What the linger reads (and discards) at a time.
constexpr std::size_t kLingerChunk = 4 * 1024;

// WebSession on Beast: owns the io_context, its work guard (released by finish()), the
// websocket::stream over a BorrowedSocket (the Connection's fd, never closed here), the
// reader's buffers and the writer's batch of frames. Promises one frame per line, in order; a
// data frame is never written before the upgrade or after a close frame; everything a send()
// returned true for went out whole, a server stop included.
//
// Which thread touches what, and when (why frames cannot be corrupted or lost):
// - Only the reader thread runs ioc_, and the stream and every member marked "reader thread"
//   are used only inside ioc_: reads, and the pongs, pings and close frames Beast writes.
// - The writer thread writes its own data frames (send): it builds the batch's frames
//   (text_frames.h: unmasked text frames, simple for a server) into one buffer and hands them to
//   the socket's send_frames(), which sends them itself once no frame of Beast's is on its way
//   and holds Beast's next write until they are out (BorrowedSocket, 3). So a pong or a close
//   never lands inside or between the bytes of our frames, and after Beast has started a close
//   frame nothing of ours goes (BorrowedSocket, 4). A batch costs one encoding pass and (socket
//   buffer permitting) one send(), on the writer thread, as for TCP: no hand-over to the reader
//   thread and back, which cost two more wake-ups per batch (see bench/RESULTS.md). The buffer
//   (frames_) holds the batch's lines plus at most 10 bytes of header each: bounded by the
//   batch the writer already holds (64 lines), and freed after a batch over kKeptBatchBytes, so
//   an idle browser keeps no large buffer.
// - The writer's close (finish) is posted into ioc_, and the writer waits on mutex_/written_
//   for it. Until the writer has finished, the reader thread runs ioc_: inside next() while
//   reading, and in serve_writes() once reading has ended; so a held write of Beast's and the
//   close always run and complete.
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
               const Limits& limits, Stats& stats, const FaultHooks& hooks)
      : connection_(std::move(connection)), config_(config), limits_(limits),
        guard_(ioc_.get_executor()), ws_(ioc_, connection_->socket(), stats.web_socket_writes, hooks),
        socket_(ws_.next_layer()), timer_(ioc_), idle_timer_(ioc_) {}

  // --- LineSource: the reader thread ---

  Status next(std::string_view& line) override {
    const Status status = read_next(line);
    if (status != Status::line && status != Status::refused) {
      reading_ended_ = true;
      idle_timer_.cancel();
    }
    return status;
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
    encode_text_frames(lines, frames_);
    const bool sent = socket_.send_frames(frames_, std::chrono::milliseconds(limits_.write_stall_ms));
    const int error = errno;
    if (frames_.capacity() > kKeptBatchBytes) std::string().swap(frames_);
    errno = error;
    return sent;
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
      socket_.park_at_eof(false);
      socket_.complete_parked(net::error::operation_aborted);
      guard_.reset();
      ioc_.stop();
    });
  }

 private:
  Status read_next(std::string_view& line) {
    if (!upgraded_.load(std::memory_order_relaxed)) {
      if (const auto status = handshake()) return *status;
    }
    read_buffer_.clear();
    read_done_ = false;
    socket_.park_at_eof(true);
    // The handler outlives this call when the read is held: it touches members only.
    ws_.async_read(read_buffer_, [this](error_code e, std::size_t) {
      read_error_ = e;
      read_done_ = true;
    });
    if (!run_until([this] { return read_done_ || socket_.read_parked(); })) {
      return fail("web connection's io_context stopped");
    }
    if (timed_out_) return fail("login timeout");
    // End of stream without a close frame: the read stays held and the stream open, so the
    // writer still delivers everything queued (see the class comment).
    if (!read_done_) return Status::end_of_stream;
    socket_.park_at_eof(false);
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
    if (idle_cut_) {
      return fail("idle: nothing heard for " + std::to_string(limits_.web_idle_timeout_ms) +
                  " ms, a ping unanswered");
    }
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
      http::async_read(socket_, http_buffer_, parser, [&](error_code e, std::size_t) {
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
    timeouts.idle_timeout = websocket::stream_base::none();  // see watch_idle()
    ws_.set_option(timeouts);
    watch_idle();
    ws_.read_message_max(limits_.max_line_bytes);
    ws_.auto_fragment(false);
    ws_.text(true);
    // Whatever the HTTP read took past the request is the stream's to read first; the stream
    // reads into its own buffer from now on, so an idle browser does not keep the headers' one.
    socket_.start_framing();
    socket_.unread(http_buffer_.data());
    http_buffer_.consume(http_buffer_.size());
    http_buffer_.shrink_to_fit();
    upgraded_.store(true, std::memory_order_release);
    return std::nullopt;
  }

  // Keep-alive, on the reader thread from the upgrade until reading has ended: a client that
  // sent nothing for half of --web-idle-timeout-ms is pinged (the browser answers by itself),
  // one that sent nothing for all of it is cut. One timer that wakes twice per timeout, not
  // Beast's idle timeout: that one re-arms its timer on every message read, a timerfd_settime()
  // per line (measured in bench/RESULTS.md).
  void watch_idle() {
    idle_timer_.expires_after(std::chrono::milliseconds(limits_.web_idle_timeout_ms) / 2);
    idle_timer_.async_wait([this](error_code error) {
      if (error || reading_ended_) return;
      const std::uint64_t heard = socket_.bytes_read();
      if (heard != heard_at_last_check_) {
        heard_at_last_check_ = heard;
        pinged_ = false;
      } else if (!pinged_) {
        pinged_ = true;
        if (!ping_in_flight_) {  // one at a time: Beast holds at most one waiting ping
          ping_in_flight_ = true;
          ws_.async_ping({}, [this](error_code) { ping_in_flight_ = false; });
        }
      } else {
        idle_cut_ = true;
        beast_close_socket(socket_);  // the read fails; next() gives the reason
        return;
      }
      watch_idle();
    });
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
    http::async_write(socket_, response, [&](error_code, std::size_t) { done = true; });
    run_until([&] { return done; });
  }

  // finish(), healthy, on the reader thread: the close frame, our FIN, then the linger.
  void close_then_linger() {
    socket_.park_at_eof(false);
    if (socket_.read_parked()) {
      // Reading ended without a close frame; the stream is still open. Once no write is in
      // flight (Beast may be sending a keep-alive ping), the held read gets its end: Beast fails
      // the stream and starts nothing more, so the socket is ours to end with our own close
      // frame, "going away" (the usual case: the server is stopping).
      socket_.when_writes_idle([this] {
        socket_.complete_parked(net::error::eof);
        static constexpr unsigned char kGoingAway[] = {0x88, 0x02, 0x03, 0xE9};
        net::async_write(socket_, net::buffer(kGoingAway), [this](error_code, std::size_t) { linger(); });
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
    socket_.shutdown_write();
    if (!linger_buffer_) linger_buffer_ = std::make_unique<std::array<char, kLingerChunk>>();
    socket_.async_read_some(net::buffer(*linger_buffer_), [this](error_code error, std::size_t n) {
      lingered_ += n;
      if (error || lingered_ >= kLingerBytes) return write_finished();
      linger();
    });
  }

  void write_finished() {
    std::lock_guard lock(mutex_);
    write_done_ = true;
    written_.notify_one();
  }

  const std::shared_ptr<Connection> connection_;
  const WebConfig& config_;
  const Limits& limits_;
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> guard_;  // released by finish()
  websocket::stream<BorrowedSocket> ws_;  // touched only inside ioc_, on the reader thread
  BorrowedSocket& socket_;  // ws_'s; its send_frames() is the writer thread's
  net::steady_timer timer_;            // the reader's deadline
  net::steady_timer idle_timer_;       // keep-alive (watch_idle), reader thread
  beast::flat_buffer http_buffer_;
  beast::flat_buffer read_buffer_;
  std::string frames_;  // the frames of the batch being written, writer thread only
  // Reader thread only.
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool waiting_ = false;
  bool timer_pending_ = false;
  bool timed_out_ = false;
  bool read_done_ = false;  // the reader's current read, whose handler may outlive next()
  bool reading_ended_ = false;
  std::uint64_t heard_at_last_check_ = 0;
  bool pinged_ = false;
  bool idle_cut_ = false;
  bool ping_in_flight_ = false;
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
  bool write_done_ = false;  // guarded by mutex_
};

}  // namespace

std::shared_ptr<WebSession> WebSession::open(std::shared_ptr<Connection> connection,
                                             const WebConfig& config, const Limits& limits,
                                             Stats& stats, const FaultHooks& hooks) {
  return std::make_shared<BeastSession>(std::move(connection), config, limits, stats, hooks);
}

}  // namespace achat::web
