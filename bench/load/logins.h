// Logins: who is who. Client i logs in as "c" + i zero-padded to at least five digits.
// Promises: logins are distinct and all of the same length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace achat::load {

class Logins {
 public:
  explicit Logins(std::uint32_t clients);

  const std::string& of(std::uint32_t client) const { return logins_[client]; }
  // The length of every login.
  std::size_t length() const noexcept { return digits_ + 1; }

 private:
  std::size_t digits_;
  std::vector<std::string> logins_;
};

}  // namespace achat::load
