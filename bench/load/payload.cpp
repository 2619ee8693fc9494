#include "payload.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>

namespace achat::load {

namespace {

constexpr char kPad = 'x';
constexpr auto kPadBlock = [] {
  std::array<char, 64> block{};
  block.fill(kPad);
  return block;
}();

// True if `text` is all pad characters: memcmp a block at a time, not a byte at a time (every
// delivered line is checked).
bool all_pad(std::string_view text) {
  while (!text.empty()) {
    const std::size_t n = std::min(text.size(), kPadBlock.size());
    if (std::memcmp(text.data(), kPadBlock.data(), n) != 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

template <class Int>
void append_number(std::string& out, Int value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Parses one number as append_number writes it (digits only, no leading zero) followed by
// `separator` (or the end of text if separator is '\0'). A plain loop: at most 19 digits
// cannot overflow 64 bits, so unlike std::from_chars it checks for overflow once, not per digit
// (every delivered line is parsed).
template <class Int>
bool take_number(std::string_view& text, Int& value, char separator) {
  constexpr std::size_t kMaxDigits = 19;
  std::uint64_t number = 0;
  std::size_t digits = 0;
  for (; digits < text.size() && digits <= kMaxDigits; ++digits) {
    const unsigned digit = static_cast<unsigned char>(text[digits]) - unsigned{'0'};
    if (digit > 9) break;
    number = number * 10 + digit;
  }
  if (digits == 0 || digits > kMaxDigits || (digits > 1 && text.front() == '0') ||
      number > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
    return false;
  }
  value = static_cast<Int>(number);
  text.remove_prefix(digits);
  if (separator == '\0') return true;
  if (text.empty() || text.front() != separator) return false;
  text.remove_prefix(1);
  return true;
}

// Padding needs at least ' ' plus one pad character: a lone trailing space would be trimmed by
// a server (the relay trims), so a header one byte short of `size` goes unpadded.
std::size_t padding_for(std::size_t header, std::size_t size) {
  return size >= header + 2 ? size - header : 0;
}

}  // namespace

void append_payload(std::string& out, const Payload& payload, std::size_t size) {
  const std::size_t start = out.size();
  append_number(out, payload.sender);
  out.push_back(' ');
  append_number(out, payload.seq);
  out.push_back(' ');
  append_number(out, payload.sent_ns);
  const std::size_t padding = padding_for(out.size() - start, size);
  if (padding > 0) {
    out.push_back(' ');
    out.append(padding - 1, kPad);
  }
}

std::optional<Payload> parse_payload(std::string_view text, std::size_t size) {
  Payload payload;
  std::string_view rest = text;
  if (!take_number(rest, payload.sender, ' ') || !take_number(rest, payload.seq, ' ') ||
      !take_number(rest, payload.sent_ns, '\0')) {
    return std::nullopt;
  }
  const std::size_t header = text.size() - rest.size();
  const std::size_t padding = padding_for(header, size);
  if (rest.size() != padding) return std::nullopt;
  if (padding > 0 && (rest.front() != ' ' || !all_pad(rest.substr(1)))) return std::nullopt;
  return payload;
}

}  // namespace achat::load
