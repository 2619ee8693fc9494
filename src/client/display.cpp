#include "display.h"

#include <cwchar>

namespace achat::client {

namespace {

bool is_control(unsigned char byte) { return byte < 0x20 || byte == 0x7f; }

struct Character {
  std::size_t bytes = 1;
  std::size_t columns = 1;
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
  return {length == 0 ? 1 : length, columns < 0 ? 2 : static_cast<std::size_t>(columns)};
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
    } else {
      const Character next = next_character(line, state);
      shown.append(line.substr(0, next.bytes));
      column += next.columns;
      line.remove_prefix(next.bytes);
    }
  }
  return shown;
}

}  // namespace achat::client
