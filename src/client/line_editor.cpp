#include "line_editor.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "display.h"

// libedit's readline-compatible interface (Debian: libedit-dev, pkg-config: libedit).
#include <editline/readline.h>

namespace achat::client {

namespace {

void write_out(std::string_view bytes) {
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
}

std::size_t screen_columns() {
  int columns = 0;
  rl_get_screen_size(nullptr, &columns);
  return columns > 0 ? static_cast<std::size_t>(columns) : 80;
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

void LineEditor::resume(std::string prompt, std::string_view text) {
  if (state_ != State::finished) return;
  prompt_ = std::move(prompt);
  state_ = State::editing;
  line_is_fresh_ = true;
  fresh_text_.clear();
  rl_callback_handler_install(prompt_.c_str(), &LineEditor::on_line);  // draws the prompt
  if (!text.empty()) {
    rl_insert_text(std::string(text).c_str());
    erase_input_area();  // the bare prompt just drawn
    fresh_text_ = text;
    rl_forced_update_display();
  }
  std::fflush(stdout);
}

void LineEditor::remember(const std::string& line) { add_history(line.c_str()); }

void LineEditor::keep_at_most(std::size_t entries) {
  stifle_history(static_cast<int>(std::min<std::size_t>(entries, INT_MAX)));
}

LineEditor::Typed LineEditor::typed() const {
  if (line_is_fresh_) return {fresh_text_, fresh_text_.size()};
  const char* buffer = rl_line_buffer != nullptr ? rl_line_buffer : "";
  const std::size_t end = ::strnlen(buffer, rl_end > 0 ? static_cast<std::size_t>(rl_end) : 0);
  const std::size_t point = rl_point > 0 ? std::min(static_cast<std::size_t>(rl_point), end) : 0;
  return {std::string_view(buffer, end), point};
}

std::size_t LineEditor::cursor_row(const Typed& input) const {
  // libedit wraps onto the next row as soon as a row is full, so a cursor right after a full
  // row sits at the start of the next one.
  return (display_width(prompt_) + display_width(input.text.substr(0, input.point))) /
         screen_columns();
}

void LineEditor::erase_input_area() {
  // Up to the first row of the input area, then clear to the end of the screen.
  const std::size_t row = cursor_row(typed());
  std::string erase = "\r";
  if (row > 0) erase += "\x1b[" + std::to_string(row) + "A";
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

std::string LineEditor::abandon() {
  if (state_ != State::editing) return {};
  const Typed input = typed();
  std::string text(input.text);
  if (text.empty()) {
    erase_input_area();  // a bare prompt is not worth keeping
  } else {
    // From the cursor's row to the last row holding text, then onto a fresh row below.
    const std::size_t end_width = display_width(prompt_) + display_width(input.text);
    const std::size_t last_row = (end_width - 1) / screen_columns();
    const std::size_t row = cursor_row(input);
    std::string move;
    if (last_row > row) move = "\x1b[" + std::to_string(last_row - row) + "B";
    if (row > last_row) move = "\x1b[" + std::to_string(row - last_row) + "A";
    write_out(move + "\r\n");
  }
  std::fflush(stdout);
  rl_callback_handler_remove();  // leaves raw mode
  state_ = State::finished;
  return text;
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
