#include "metrics_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <string_view>

#include "deadline_stream.h"
#include "routes.h"

namespace achat::metrics {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// A scrape request is one short request line and a few headers; anything longer is refused.
constexpr std::size_t kMaxRequestBytes = 8 * 1024;
// Formatting /connz for thousands of clients needs heap, not stack; 256 KiB is ample for
// Beast's parser and the formatting calls (only touched pages count toward RSS).
constexpr std::size_t kStackBytes = 256 * 1024;
// A request too malformed to have a version is answered in HTTP/1.1.
constexpr unsigned kHttp11 = 11;
// After accept() fails for lack of descriptors, wait before retrying instead of spinning.
constexpr std::chrono::milliseconds kAcceptPause{50};
// Scrapers are served one at a time; a few more may wait their turn in the kernel.
constexpr int kListenBacklog = 16;

Socket non_blocking(Socket socket) {
  ::fcntl(socket.fd(), F_SETFL, ::fcntl(socket.fd(), F_GETFL) | O_NONBLOCK);
  return socket;
}

// The request could not be parsed (as opposed to: the scraper went away, was too slow, or we
// are stopping), so it deserves a 400.
bool is_malformed(const beast::error_code& error) {
  return error.category() == http::make_error_code(http::error::bad_target).category() &&
         error != http::error::end_of_stream && error != http::error::partial_message;
}

http::response<http::string_body> to_response(Reply reply, unsigned http_version) {
  http::response<http::string_body> response(reply.status, http_version);
  response.set(http::field::content_type, reply.content_type);
  if (reply.status == http::status::method_not_allowed) response.set(http::field::allow, "GET, HEAD");
  response.keep_alive(false);
  response.body() = std::move(reply.body);
  response.prepare_payload();
  return response;
}

}  // namespace

MetricsServer::MetricsServer(const Server& server, const Endpoint& endpoint,
                             std::chrono::milliseconds exchange_timeout)
    : server_(server),
      exchange_timeout_(exchange_timeout),
      listener_(non_blocking(Socket::listen_on(endpoint, kListenBacklog))),
      port_(listener_.local_port()) {
  boost::thread::attributes attributes;
  attributes.set_stack_size(kStackBytes);
  thread_ = boost::thread(attributes, [this] { run(); });
  spdlog::info("metrics served on http://{}:{}/metrics and /connz", endpoint.host, port_);
}

MetricsServer::~MetricsServer() {
  stop_.raise();
  thread_.join();
  spdlog::info("metrics stopped");
}

void MetricsServer::run() noexcept {
  while (stop_.wait(listener_.fd(), POLLIN, std::nullopt) == StopSignal::Wake::ready) {
    try {
      accept_one();
    } catch (const std::exception& error) {
      spdlog::error("metrics: serving a scraper failed: {}", error.what());
    } catch (...) {
      spdlog::error("metrics: serving a scraper failed");
    }
  }
}

void MetricsServer::accept_one() {
  const Socket scraper(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!scraper) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == ECONNABORTED) return;
    spdlog::error("metrics: accept failed: {}", std::strerror(error));
    stop_.wait(-1, 0, std::chrono::steady_clock::now() + kAcceptPause);
    return;
  }
  const std::string peer = scraper.peer_name().value_or("a scraper");
  serve(scraper, peer);
  scraper.shutdown_write();  // the reply is complete: end of stream, then close
}

void MetricsServer::serve(const Socket& scraper, const std::string& peer) {
  DeadlineStream stream(scraper, stop_, std::chrono::steady_clock::now() + exchange_timeout_);
  beast::flat_buffer buffer(kMaxRequestBytes);
  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxRequestBytes);
  parser.body_limit(kMaxRequestBytes);
  beast::error_code error;
  http::read(stream, buffer, parser, error);
  if (error && !is_malformed(error)) {
    if (error == beast::error::timeout) spdlog::info("metrics: {} cut: too slow", peer);
    return;
  }
  auto response =
      error ? to_response(bad_request(error.message()), kHttp11)
            : to_response(route(server_, parser.get().method(), parser.get().target()),
                          parser.get().version());
  if (!parser.is_done() || parser.get().method() != http::verb::head) {
    http::write(stream, response, error);
  } else {  // the headers GET would get, Content-Length included, and no body
    http::response<http::empty_body> head(response.base());
    http::write(stream, head, error);
  }
  if (error == beast::error::timeout) spdlog::info("metrics: {} cut: too slow", peer);
}

}  // namespace achat::metrics
