// An in-process a-chat server on a free loopback port, stopped gracefully when the test ends.
#pragma once

#include <memory>

#include "achat/server.h"

namespace achat::testing {

inline ServerConfig loopback_config(Limits limits = {}) {
  ServerConfig config;
  config.endpoint.port = 0;
  if (limits.max_clients == 0) limits.max_clients = 10'000;
  config.limits = limits;
  return config;
}

// Owned by one test. Starts on construction; stop() (or the destructor) shuts down gracefully.
class TestServer {
 public:
  explicit TestServer(Limits limits = {}) : server_(loopback_config(limits)) { server_.start(); }
  std::uint16_t port() const { return server_.port(); }
  Server& operator*() { return server_; }
  Server* operator->() { return &server_; }

 private:
  Server server_;
};

}  // namespace achat::testing
