#include "logins.h"

#include <charconv>
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

Logins::Logins(std::uint32_t clients) : clients_(clients), digits_(digits_for(clients)) {
  logins_.reserve(clients);
  for (std::uint32_t i = 0; i < clients; ++i) {
    const std::string number = std::to_string(i);
    std::string login(1, 'c');
    login.append(digits_ - number.size(), '0').append(number);
    logins_.push_back(std::move(login));
  }
}

std::optional<std::uint32_t> Logins::client_of(std::string_view login) const noexcept {
  if (login.size() != digits_ + 1 || login.front() != 'c') return std::nullopt;
  std::uint32_t index = 0;
  const char* first = login.data() + 1;
  const char* last = login.data() + login.size();
  const auto result = std::from_chars(first, last, index);
  if (result.ec != std::errc() || result.ptr != last || index >= clients_) return std::nullopt;
  return index;
}

}  // namespace achat::load
