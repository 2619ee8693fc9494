#include "logins.h"

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

Logins::Logins(std::uint32_t clients, char initial) : digits_(digits_for(clients)) {
  logins_.reserve(clients);
  for (std::uint32_t i = 0; i < clients; ++i) {
    const std::string number = std::to_string(i);
    std::string login(1, initial);
    login.append(digits_ - number.size(), '0').append(number);
    logins_.push_back(std::move(login));
  }
}

}  // namespace achat::load
