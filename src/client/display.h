// How text looks on the terminal: the columns it takes, and incoming lines made safe to print.
// Pure functions of their argument and of the LC_CTYPE locale, which decides how non-ASCII
// bytes are read (main() sets it from the environment before any is called). Any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace achat::client {

// A tab in an incoming line moves to the next multiple of this many columns, as on a terminal.
inline constexpr std::size_t kTabWidth = 8;

// Columns `text` takes as libedit draws it: control characters as "^X" (2 columns), wide
// characters as 2, invalid bytes as 1 each.
std::size_t display_width(std::string_view text);

// An incoming line as it is shown: each tab becomes the spaces up to the next tab stop
// (counting from the start of the line), other C0 control characters "^X" (DEL "^?"), C1
// control characters "<U+009B>" when UTF-8-encoded and "\x9B" as raw bytes the locale cannot
// decode, bidirectional formatting characters (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F,
// U+061C) "<U+202E>", so a peer's text can neither move the cursor nor change the
// terminal, whether it reads UTF-8 or 8-bit bytes.
std::string printable(std::string_view line);

}  // namespace achat::client
