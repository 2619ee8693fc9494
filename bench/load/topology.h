// Topology: who is who and who sends to whom. Client i logs in as "c" + i zero-padded to at
// least five digits, and sends every message to the next K clients in a ring: i+1 .. i+K
// (mod N). Promises: logins are distinct and parse back to their index; for a recipient r the
// K senders that address it map one-to-one onto slots 0..K-1 (see sender_slot()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace achat::load {

class Topology {
 public:
  // Requires 1 <= recipients < clients.
  Topology(std::uint32_t clients, std::uint32_t recipients);

  std::uint32_t clients() const noexcept { return clients_; }
  std::uint32_t recipients() const noexcept { return recipients_; }

  const std::string& login(std::uint32_t client) const { return logins_[client]; }
  // The client index a login names, or nullopt if it is not one of ours.
  std::optional<std::uint32_t> client_of(std::string_view login) const noexcept;

  // "c00043, c00044: " — the address part of every message `sender` sends.
  const std::string& address_prefix(std::uint32_t sender) const { return prefixes_[sender]; }

  // Slot of `sender` among the K senders addressing `recipient` (sender = recipient - 1 - slot),
  // or nullopt if `sender` does not address `recipient`.
  std::optional<std::uint32_t> sender_slot(std::uint32_t recipient,
                                           std::uint32_t sender) const noexcept;

 private:
  std::uint32_t clients_;
  std::uint32_t recipients_;
  std::size_t digits_;
  std::vector<std::string> logins_;
  std::vector<std::string> prefixes_;
};

}  // namespace achat::load
