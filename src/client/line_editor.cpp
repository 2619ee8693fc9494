#include "line_editor.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <stdexcept>
#include <string>
#include <utility>

// libedit's readline-compatible interface (Debian: libedit-dev, pkg-config: libedit).
#include <editline/readline.h>

namespace achat::client {

namespace {

// Columns `text` takes on the terminal, as libedit draws it: control characters as "^X".
std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  std::mbstate_t state{};
  while (!text.empty()) {
    wchar_t character = 0;
    std::size_t length = std::mbrtowc(&character, text.data(), text.size(), &state);
    if (length == static_cast<std::size_t>(-1) || length == static_cast<std::size_t>(-2)) {
      state = std::mbstate_t{};
      length = 1;
      width += 1;
    } else {
      if (length == 0) length = 1;
      const int columns = ::wcwidth(character);
      width += columns < 0 ? 2 : static_cast<std::size_t>(columns);
    }
    text.remove_prefix(length);
  }
  return width;
}

void write_out(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
}

}  // namespace

LineEditor* LineEditor::active_ = nullptr;

LineEditor::LineEditor(std::string prompt) : prompt_(std::move(prompt)) {
  if (active_ != nullptr) throw std::logic_error("only one LineEditor may exist at a time");
  active_ = this;
  rl_readline_name = "a-chat-client";  // for "a-chat-client:" lines in ~/.editrc
  rl_callback_handler_install(prompt_.c_str(), &LineEditor::on_line);
  std::fflush(stdout);
}

LineEditor::~LineEditor() {
  close();
  active_ = nullptr;
}

int LineEditor::input_fd() const noexcept { return fileno(rl_instream ? rl_instream : stdin); }

void LineEditor::on_line(char* line) {
  // libedit hands over a malloc'ed copy of the line, or nullptr for Ctrl-D.
  Input input;
  input.end_of_input = line == nullptr;
  if (line != nullptr) {
    input.text = line;
    std::free(line);
  }
  if (active_ != nullptr) active_->finished_ = std::move(input);
}

std::optional<LineEditor::Input> LineEditor::read_key() {
  if (state_ != State::editing) return std::nullopt;
  rl_callback_read_char();
  line_is_fresh_ = false;
  std::fflush(stdout);
  if (!finished_) return std::nullopt;
  // libedit has left raw mode and stopped editing; a new line starts with resume().
  state_ = State::finished;
  return std::exchange(finished_, std::nullopt);
}

void LineEditor::resume(std::string prompt) {
  if (state_ != State::finished) return;
  prompt_ = std::move(prompt);
  state_ = State::editing;
  line_is_fresh_ = true;
  rl_callback_handler_install(prompt_.c_str(), &LineEditor::on_line);
  std::fflush(stdout);
}

void LineEditor::remember(const std::string& line) { add_history(line.c_str()); }

void LineEditor::erase_input_area() {
  // The typed text and cursor as libedit last published them (after the last key).
  const char* buffer = rl_line_buffer != nullptr && !line_is_fresh_ ? rl_line_buffer : "";
  const int published_end = line_is_fresh_ ? 0 : rl_end;
  const std::size_t end =
      ::strnlen(buffer, published_end > 0 ? static_cast<std::size_t>(published_end) : 0);
  const std::size_t point = rl_point > 0 ? std::min(static_cast<std::size_t>(rl_point), end) : 0;
  int columns = 0;
  rl_get_screen_size(nullptr, &columns);
  if (columns <= 0) columns = 80;
  // The row of the cursor inside the input area: libedit wraps onto the next row as soon as a
  // row is full, so a cursor right after a full row sits at the start of the next one.
  const std::size_t cursor_row =
      (display_width(prompt_) + display_width(std::string_view(buffer, point))) /
      static_cast<std::size_t>(columns);
  std::string erase = "\r";
  if (cursor_row > 0) erase += "\x1b[" + std::to_string(cursor_row) + "A";
  erase += "\x1b[J";
  write_out(erase);
}

void LineEditor::print_above(std::string_view line) {
  if (state_ != State::editing) {
    write_out(line);
    write_out("\n");
    std::fflush(stdout);
    return;
  }
  erase_input_area();
  write_out(line);
  write_out("\r\n");
  std::fflush(stdout);
  // Draws the prompt, the untouched line buffer and the cursor on the fresh row.
  rl_forced_update_display();
  std::fflush(stdout);
}

void LineEditor::close() {
  if (state_ == State::closed) return;
  if (state_ == State::editing) {
    erase_input_area();
    std::fflush(stdout);
    rl_callback_handler_remove();  // leaves raw mode
  } else {
    // Enter already moved to a fresh line; Ctrl-D left the cursor after the prompt.
    rl_callback_handler_remove();
    write_out("\r\x1b[K");
  }
  std::fflush(stdout);
  state_ = State::closed;
}

}  // namespace achat::client
