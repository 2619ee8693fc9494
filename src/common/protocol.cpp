#include "achat/protocol.h"

#include <cstdint>

namespace achat {

namespace {

bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Length of the valid UTF-8 sequence starting `text`, or 0 if it does not start with one.
std::size_t utf8_sequence_length(std::string_view text) noexcept {
  const auto lead = static_cast<unsigned char>(text.front());
  const std::size_t length = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                             : (lead & 0xF8) == 0xF0 ? 4 : 0;
  if (length == 0 || length > text.size() || !is_valid_utf8(text.substr(0, length))) return 0;
  return length;
}

std::string dropped(std::string_view why, std::string_view line) {
  return std::string(why) + ", line dropped: " + quote_excerpt(line);
}

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

std::string quote_excerpt(std::string_view line) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  std::size_t taken = 0;
  while (taken < line.size() && taken < kExcerptBytes) {
    const std::string_view rest = line.substr(taken);
    const std::size_t length = utf8_sequence_length(rest);
    const auto byte = static_cast<unsigned char>(rest.front());
    if (length > 1) {
      if (taken + length > kExcerptBytes) break;
      quoted.append(rest.substr(0, length));
      taken += length;
      continue;
    }
    if (byte == '"' || byte == '\\') {
      quoted.push_back('\\');
      quoted.push_back(static_cast<char>(byte));
    } else if (length == 1 && byte >= 0x20 && byte != 0x7F) {
      quoted.push_back(static_cast<char>(byte));
    } else {
      quoted.append("\\x").push_back(kHex[byte >> 4]);
      quoted.push_back(kHex[byte & 0xF]);
    }
    ++taken;
  }
  quoted.push_back('"');
  if (taken < line.size()) quoted.append("...");
  return quoted;
}

std::optional<ChatLine> parse_chat_line(std::string_view line, std::size_t max_recipients,
                                        std::string& error) {
  if (!is_valid_utf8(line)) {
    error = dropped("invalid UTF-8", line);
    return std::nullopt;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    error = dropped("expected \"name, name: text\"", line);
    return std::nullopt;
  }
  ChatLine parsed{line.substr(0, colon), trim(line.substr(colon + 1))};
  std::size_t names = 0;
  for_each_recipient(parsed.recipients, [&](std::string_view) { ++names; });
  if (names == 0) {
    error = dropped("no recipients", line);
    return std::nullopt;
  }
  if (names > max_recipients) {
    error = dropped("too many recipients (limit " + std::to_string(max_recipients) + ")", line);
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
