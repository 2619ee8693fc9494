#include "topology.h"

#include <charconv>
#include <stdexcept>
#include <utility>

namespace achat::load {

namespace {

constexpr std::size_t kMinDigits = 5;

std::size_t digits_for(std::uint32_t clients) {
  std::size_t digits = 1;
  for (std::uint32_t largest = clients - 1; largest >= 10; largest /= 10) ++digits;
  return digits < kMinDigits ? kMinDigits : digits;
}

}  // namespace

Topology::Topology(std::uint32_t clients, std::uint32_t recipients)
    : clients_(clients), recipients_(recipients), digits_(digits_for(clients)) {
  if (recipients < 1 || recipients >= clients) {
    throw std::invalid_argument("need 1 <= recipients < clients");
  }
  logins_.reserve(clients);
  for (std::uint32_t i = 0; i < clients; ++i) {
    const std::string number = std::to_string(i);
    std::string login(1, 'c');
    login.append(digits_ - number.size(), '0').append(number);
    logins_.push_back(std::move(login));
  }
  prefixes_.reserve(clients);
  for (std::uint32_t i = 0; i < clients; ++i) {
    std::string prefix;
    for (std::uint32_t k = 1; k <= recipients; ++k) {
      if (k > 1) prefix += ", ";
      prefix += logins_[(i + k) % clients];
    }
    prefixes_.push_back(prefix + ": ");
  }
}

std::optional<std::uint32_t> Topology::client_of(std::string_view login) const noexcept {
  if (login.size() != digits_ + 1 || login.front() != 'c') return std::nullopt;
  std::uint32_t index = 0;
  const char* first = login.data() + 1;
  const char* last = login.data() + login.size();
  const auto result = std::from_chars(first, last, index);
  if (result.ec != std::errc() || result.ptr != last || index >= clients_) return std::nullopt;
  return index;
}

std::optional<std::uint32_t> Topology::sender_slot(std::uint32_t recipient,
                                                   std::uint32_t sender) const noexcept {
  const std::uint32_t distance = (recipient + clients_ - sender) % clients_;
  if (distance < 1 || distance > recipients_) return std::nullopt;
  return distance - 1;
}

}  // namespace achat::load
