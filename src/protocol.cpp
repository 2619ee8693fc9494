#include "achat/protocol.h"

#include <cstdint>

namespace achat {

namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// RFC 3629: rejects overlong forms, surrogates and code points above U+10FFFF.
bool is_valid_utf8(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    std::size_t length;
    std::uint32_t code_point;
    std::uint32_t minimum;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, minimum = 0x10000;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < length) return false;
    for (std::size_t i = 1; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (p[i] & 0x3F);
    }
    if (code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    p += length;
  }
  return true;
}

std::optional<ChatLine> parse_chat_line(std::string_view line, std::size_t max_recipients,
                                        std::string& error) {
  if (!is_valid_utf8(line)) {
    error = "invalid UTF-8, line dropped";
    return std::nullopt;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    error = "expected \"name, name: text\", line dropped";
    return std::nullopt;
  }
  ChatLine parsed{line.substr(0, colon), trim(line.substr(colon + 1))};
  std::size_t names = 0;
  for_each_recipient(parsed.recipients, [&](std::string_view) { ++names; });
  if (names == 0) {
    error = "no recipients, line dropped";
    return std::nullopt;
  }
  if (names > max_recipients) {
    error = "too many recipients (limit " + std::to_string(max_recipients) + "), line dropped";
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::string> login_problem(std::string_view login, std::size_t max_login_bytes) {
  if (login.empty()) return "login is empty";
  if (login.size() > max_login_bytes) {
    return "login longer than " + std::to_string(max_login_bytes) + " bytes";
  }
  if (!is_valid_utf8(login)) return "login is not valid UTF-8";
  for (const char c : login) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == ',' || c == ':') return "login may not contain ',' or ':'";
    if (byte < 0x20 || byte == 0x7F) return "login may not contain control characters";
  }
  return std::nullopt;
}

std::string format_delivery(std::string_view from, std::string_view text) {
  constexpr std::string_view head = "from ";
  constexpr std::string_view separator = ": ";
  std::string line;
  line.reserve(head.size() + from.size() + separator.size() + text.size() + 1);
  line.append(head).append(from).append(separator).append(text).push_back('\n');
  return line;
}

std::string format_error(std::string_view what) {
  std::string line;
  line.reserve(kErrorPrefix.size() + what.size() + 1);
  line.append(kErrorPrefix).append(what).push_back('\n');
  return line;
}

}  // namespace achat
