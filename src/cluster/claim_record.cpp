#include "claim_record.h"

#include <sys/random.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

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
  const std::string_view rest = value.substr(space + 1);
  ClaimOwner owner{std::string(value.substr(0, space)), std::string(rest.substr(0, rest.find(' ')))};
  if (!is_valid_node_id(owner.node) || owner.incarnation.empty()) return std::nullopt;
  return owner;
}

std::string ClaimValue::to_value() const {
  return owner.to_value() + " " + std::to_string(kVersion) + " " + nonce + " " + std::to_string(epoch) +
         (typed.empty() ? "" : " " + typed);
}

std::optional<ClaimValue> ClaimValue::parse(std::string_view value) {
  std::vector<std::string_view> fields;
  while (!value.empty()) {
    const auto space = value.find(' ');
    fields.push_back(value.substr(0, space));
    if (space == std::string_view::npos) break;
    value.remove_prefix(space + 1);
  }
  if (fields.size() < 2) return std::nullopt;
  ClaimValue parsed{ClaimOwner{std::string(fields[0]), std::string(fields[1])}, {}, 0, 1};
  if (!is_valid_node_id(parsed.owner.node) || parsed.owner.incarnation.empty()) return std::nullopt;
  if (fields.size() == 2) return parsed;  // version 1: "<node> <run>"
  const auto number = [](std::string_view text, auto& out) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size();
  };
  if (!number(fields[2], parsed.version) || parsed.version < 2 || fields.size() < 4 || fields[3].empty()) {
    return std::nullopt;
  }
  parsed.nonce = std::string(fields[3]);
  if (fields.size() < 5 || !number(fields[4], parsed.epoch)) parsed.epoch = 0;
  if (fields.size() >= 6) parsed.typed = std::string(fields[5]);
  return parsed;
}

// From the kernel (getrandom), one call per claim: no generator state. A thread_local
// std::mt19937_64 here was 2.5 KB of static TLS, which every thread of the process carries at
// the top of its stack: it cost every idle connection a page of each of its two stacks.
std::string random_nonce() {
  std::uint64_t bits = 0;
  std::size_t got = 0;
  while (got < sizeof bits) {
    const ssize_t n = getrandom(reinterpret_cast<char*>(&bits) + got, sizeof bits - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (errno != EINTR) {
      std::random_device seed;  // no getrandom (a very old kernel): the library's own source
      bits = (static_cast<std::uint64_t>(seed()) << 32) ^ seed();
      break;
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
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
