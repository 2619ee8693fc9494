#include "achat/endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace achat {

namespace {

bool is_ipv6_literal(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET6;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  ::freeaddrinfo(found);
  return true;
}

// RFC 1123 host names (letters, digits, '-', labels of 1..63 between dots, an optional final
// dot), plus '_' which container and service names use. A name of digits and dots only must be
// an IPv4 address: "127.0.0.1.5" or "300.1.1.1" are typing mistakes, not names to look up.
bool is_host_name_or_ipv4(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    in_addr probe{};
    return ::inet_pton(AF_INET, std::string(host).c_str(), &probe) == 1;
  }
  std::string_view rest = host.ends_with('.') ? host.substr(0, host.size() - 1) : host;
  while (true) {
    const auto dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    const bool allowed = std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_';
    });
    if (!allowed) return false;
    if (dot == std::string_view::npos) return true;
    rest.remove_prefix(dot + 1);
  }
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  Endpoint endpoint;
  std::string_view port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") return std::nullopt;
    endpoint.host = std::string(text.substr(1, close - 1));
    if (!is_ipv6_literal(endpoint.host)) return std::nullopt;
    port = text.substr(close + 2);
  } else {
    const auto colon = text.find(':');
    // More than one ':' is an IPv6 address without its brackets.
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view host = text.substr(0, colon);
    if (!host.empty() && !is_host_name_or_ipv4(host)) return std::nullopt;
    endpoint.host = std::string(host);
    port = text.substr(colon + 1);
  }
  const auto number = parse_port(port);
  if (!number) return std::nullopt;
  endpoint.port = *number;
  return endpoint;
}

std::string Endpoint::bad_address_error(std::string_view text) {
  return "bad address \"" + std::string(text) + "\": expected HOST:PORT, [IPv6]:PORT or :PORT";
}

std::string Endpoint::to_string() const {
  const std::string suffix = ":" + std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]" + suffix;
  return host + suffix;
}

sockaddr_in Endpoint::to_sockaddr() const {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    throw std::system_error(EINVAL, std::generic_category(), "not an IPv4 address: " + host);
  }
  return address;
}

}  // namespace achat
