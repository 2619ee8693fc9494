// Logins: who is who. Client i logs in as `initial` + i zero-padded to at least five digits:
// "c00042" over TCP, "w00042" over WebSocket, so one run of each can share a server.
// Promises: logins are distinct and all of the same length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace achat::load {

class Logins {
 public:
  Logins(std::uint32_t clients, char initial);

  const std::string& of(std::uint32_t client) const { return logins_[client]; }
  // The length of every login.
  std::size_t length() const noexcept { return digits_ + 1; }

 private:
  std::size_t digits_;
  std::vector<std::string> logins_;
};

}  // namespace achat::load
