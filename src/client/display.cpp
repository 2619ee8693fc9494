#include "display.h"

#include <cwchar>
#include <optional>

namespace achat::client {

namespace {

bool is_control(unsigned char byte) { return byte < 0x20 || byte == 0x7f; }

// 0x80..0x9F: C1 control characters (0x9B is CSI, 0x9D starts an OSC). A terminal reading 8-bit
// bytes acts on them as bytes; one in UTF-8 mode may act on their encodings, 0xC2 0x80..0x9F.
bool is_c1_control(unsigned char byte) { return byte >= 0x80 && byte <= 0x9f; }

// The C1 control `text` starts with in UTF-8, if any: decoded whatever the locale, since the
// terminal decides how it is read.
std::optional<unsigned char> utf8_c1_control(std::string_view text) {
  if (text.size() < 2 || static_cast<unsigned char>(text[0]) != 0xc2) return std::nullopt;
  const auto second = static_cast<unsigned char>(text[1]);
  if (!is_c1_control(second)) return std::nullopt;
  return second;
}

// The bidirectional formatting character `text` starts with in UTF-8, if any: the embeddings and
// overrides U+202A..U+202E, the isolates U+2066..U+2069, the marks U+200E, U+200F and U+061C.
// Invisible, yet they reorder what follows on a terminal that implements bidi (an RLO makes
// `from bob: 1$` read `from bob: $1`), so a peer could disguise its text or look like another.
// Decoded whatever the locale, like C1 controls.
std::optional<char32_t> utf8_bidi_control(std::string_view text) {
  if (text.size() >= 2 && static_cast<unsigned char>(text[0]) == 0xd8 &&
      static_cast<unsigned char>(text[1]) == 0x9c) {
    return U'\u061c';
  }
  if (text.size() < 3 || static_cast<unsigned char>(text[0]) != 0xe2) return std::nullopt;
  const auto second = static_cast<unsigned char>(text[1]);
  const auto third = static_cast<unsigned char>(text[2]);
  if ((third & 0xc0) != 0x80 || (second != 0x80 && second != 0x81)) return std::nullopt;
  const char32_t code_point = 0x2000 | static_cast<char32_t>(second & 0x3f) << 6 | (third & 0x3f);
  const bool bidi = code_point == 0x200e || code_point == 0x200f ||
                    (code_point >= 0x202a && code_point <= 0x202e) ||
                    (code_point >= 0x2066 && code_point <= 0x2069);
  if (!bidi) return std::nullopt;
  return code_point;
}

struct Character {
  std::size_t bytes = 1;
  std::size_t columns = 1;
  bool valid = false;  // decoded in the locale's encoding
};

// The first character of `text` (not a control character): its length in bytes and columns.
Character next_character(std::string_view text, std::mbstate_t& state) {
  wchar_t character = 0;
  const std::size_t length = std::mbrtowc(&character, text.data(), text.size(), &state);
  if (length == static_cast<std::size_t>(-1) || length == static_cast<std::size_t>(-2)) {
    state = std::mbstate_t{};
    return {};
  }
  const int columns = ::wcwidth(character);
  return {length == 0 ? 1 : length, columns < 0 ? 2 : static_cast<std::size_t>(columns), true};
}

// Appends a C1 control character shown as ASCII text (one column per byte): `before`, its value
// in two hex digits, `after`.
void append_escape(std::string& shown, std::size_t& column, std::string_view before,
                   unsigned char value, std::string_view after) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  const std::size_t start = shown.size();
  shown.append(before);
  shown += kHex[value >> 4];
  shown += kHex[value & 0xf];
  shown.append(after);
  column += shown.size() - start;
}

// Appends `<U+XXXX>` for a bidi control (ASCII text, one column per byte).
void append_code_point(std::string& shown, std::size_t& column, char32_t code_point) {
  append_escape(shown, column, "<U+", static_cast<unsigned char>(code_point >> 8), "");
  append_escape(shown, column, "", static_cast<unsigned char>(code_point & 0xff), ">");
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  std::mbstate_t state{};
  while (!text.empty()) {
    if (is_control(static_cast<unsigned char>(text.front()))) {
      width += 2;
      text.remove_prefix(1);
      continue;
    }
    const Character next = next_character(text, state);
    width += next.columns;
    text.remove_prefix(next.bytes);
  }
  return width;
}

std::string printable(std::string_view line) {
  std::string shown;
  shown.reserve(line.size());
  std::size_t column = 0;
  std::mbstate_t state{};
  while (!line.empty()) {
    const auto byte = static_cast<unsigned char>(line.front());
    if (byte == '\t') {
      const std::size_t spaces = kTabWidth - column % kTabWidth;
      shown.append(spaces, ' ');
      column += spaces;
      line.remove_prefix(1);
    } else if (is_control(byte)) {
      shown += '^';
      shown += static_cast<char>(byte ^ 0x40);
      column += 2;
      line.remove_prefix(1);
    } else if (const auto c1 = utf8_c1_control(line)) {
      append_escape(shown, column, "<U+00", *c1, ">");
      line.remove_prefix(2);
    } else if (const auto bidi = utf8_bidi_control(line)) {
      append_code_point(shown, column, *bidi);
      line.remove_prefix(*bidi == U'\u061c' ? 2 : 3);
    } else {
      const Character next = next_character(line, state);
      if (!next.valid && is_c1_control(byte)) {
        append_escape(shown, column, "\\x", byte, "");
      } else {
        shown.append(line.substr(0, next.bytes));
        column += next.columns;
      }
      line.remove_prefix(next.bytes);
    }
  }
  return shown;
}

}  // namespace achat::client
