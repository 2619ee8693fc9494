#include "claim_record.h"

namespace achat::cluster {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::size_t kMaxNodeIdBytes = 64;

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string claim_key(std::string_view login) {
  std::string key;
  key.reserve(login.size() * 2);
  for (const char c : login) {
    const auto byte = static_cast<unsigned char>(c);
    key.push_back(kHexDigits[byte >> 4]);
    key.push_back(kHexDigits[byte & 0xF]);
  }
  return key;
}

std::optional<std::string> login_of_key(std::string_view key) {
  if (key.empty() || key.size() % 2 != 0) return std::nullopt;
  std::string login;
  login.reserve(key.size() / 2);
  for (std::size_t i = 0; i < key.size(); i += 2) {
    const int high = hex_value(key[i]);
    const int low = hex_value(key[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    login.push_back(static_cast<char>(high << 4 | low));
  }
  return login;
}

std::string ClaimOwner::to_value() const { return node + " " + incarnation; }

std::optional<ClaimOwner> ClaimOwner::parse(std::string_view value) {
  const auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  ClaimOwner owner{std::string(value.substr(0, space)), std::string(value.substr(space + 1))};
  if (!is_valid_node_id(owner.node) || owner.incarnation.empty()) return std::nullopt;
  return owner;
}

bool is_valid_node_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxNodeIdBytes) return false;
  for (const char c : id) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                         c == '_' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace achat::cluster
