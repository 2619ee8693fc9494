// MetricsServer: the operator's HTTP endpoint (GET /metrics, GET /connz) on its own port and
// thread, built on Boost.Beast's HTTP parser and serializer with synchronous I/O.
#pragma once

#include <boost/thread/thread.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "achat/server.h"
#include "achat/socket.h"
#include "stop_signal.h"

namespace achat::metrics {

// Owns the listening socket and the one thread that serves it. Constructed and destroyed by one
// controlling thread (main, or a test), after the Server has started and before it stops.
// Serves one connection at a time and one request per connection ("Connection: close"). Each
// exchange, reading the request and writing the reply, must finish within `exchange_timeout`
// or the scraper is cut, so a stuck scraper delays the next one by at most that. It reads only
// the Server's atomics, Registry and Crew counts: never broker state. The destructor stops it:
// an exchange in progress is abandoned, the thread joined, the listener closed.
class MetricsServer {
 public:
  // A scrape over loopback or a LAN takes milliseconds; 2 s leaves room for 10,000 clients' /connz
  // over a slow link while bounding how long one stuck scraper blocks the others.
  static constexpr std::chrono::milliseconds kDefaultExchangeTimeout{2000};

  // Binds now (throws std::system_error) and starts serving. `server` must outlive this object.
  MetricsServer(const Server& server, const Endpoint& endpoint,
                std::chrono::milliseconds exchange_timeout = kDefaultExchangeTimeout);
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  ~MetricsServer();

  std::uint16_t port() const { return port_; }

 private:
  void run() noexcept;
  void accept_one();
  void serve(const Socket& scraper, const std::string& peer);

  const Server& server_;
  const std::chrono::milliseconds exchange_timeout_;
  const Socket listener_;
  const std::uint16_t port_;
  StopSignal stop_;
  boost::thread thread_;
};

}  // namespace achat::metrics
