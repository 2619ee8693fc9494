#include "io.h"

#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace achat::client {

bool write_all(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) noexcept {
  using namespace std::chrono;
  for (;;) {
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    pollfd entry{fd, POLLIN, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(std::max<long long>(left, 0)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return true;  // let the caller's read report the error
  }
}

std::optional<Socket> connect_to_server(const Endpoint& server, std::string& failure) {
  try {
    return Socket::connect_to(server);
  } catch (const std::system_error& error) {
    failure = "cannot connect to " + server.to_string() + ": " + error.code().message();
    return std::nullopt;
  }
}

std::optional<std::string> resolve_failure(const Endpoint& server) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string host = server.host.empty() ? "localhost" : server.host;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(server.port).c_str(), &hints, &found);
  if (rc == 0) {
    ::freeaddrinfo(found);
    return std::nullopt;
  }
  return "cannot connect to " + server.to_string() + ": " +
         (rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc));
}

}  // namespace achat::client
