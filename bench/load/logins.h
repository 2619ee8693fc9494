// Logins: who is who. Client i logs in as "c" + i zero-padded to at least five digits.
// Promises: logins are distinct, all of the same length, and parse back to their index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace achat::load {

class Logins {
 public:
  explicit Logins(std::uint32_t clients);

  const std::string& of(std::uint32_t client) const { return logins_[client]; }
  // The client index a login names, or nullopt if it is not one of ours.
  std::optional<std::uint32_t> client_of(std::string_view login) const noexcept;

 private:
  std::uint32_t clients_;
  std::size_t digits_;
  std::vector<std::string> logins_;
};

}  // namespace achat::load
