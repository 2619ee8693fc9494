// LineEditor: the prompt line of the interactive client, edited with libedit.
//
// Library choice: libedit (BSD licence, like this MIT project; GNU readline is GPL) through its
// readline-compatible callback interface: rl_callback_handler_install() shows the prompt and
// puts the terminal in raw mode, and the owner calls read_key() whenever poll() says the input
// descriptor is readable, so the caller's poll loop can watch the socket at the same time.
//
// Printing above the prompt (print_above): GNU readline's dance (rl_save_prompt,
// rl_replace_line("", 0), rl_redisplay, print, rl_restore_prompt, rl_replace_line(saved),
// rl_redisplay) does not work on libedit's compat layer: there rl_replace_line("") is a no-op,
// rl_redisplay() pushes the ^R reprint key into the input queue (which libedit binds to
// incremental search) and rl_on_new_line() is empty. What does work is
// rl_forced_update_display() (libedit's EL_REFRESH): it forgets what is on screen, assumes the
// cursor is at the start of a blank input area, and draws the prompt and the whole line buffer
// with the cursor at its position. So print_above never touches libedit's buffer: it saves the
// typed text and cursor only to know on which screen row the cursor is (rl_line_buffer,
// rl_point, the prompt and the terminal width; libedit updates them after each key only, so a
// freshly shown prompt counts as empty, or as the text resume() put there), moves to the first
// row of the input area,
// clears to the end of the screen (VT100 "\r", "ESC[nA", "ESC[J"), prints the incoming line and
// a newline, and has libedit redraw the prompt with the typed text and cursor intact below it.
//
// Owns: libedit's readline-compat state for the process (it is global inside libedit, so at
// most one LineEditor may exist at a time), the current prompt, the terminal's raw mode while
// a line is being edited, and the history of sent lines.
// Threads: the main thread only (libedit is not thread-safe), like everything else that writes
// to the terminal while it exists.
// Promise: the typed text and cursor survive print_above(); abandon() leaves them on screen;
// after read_key() returns an input or abandon(), no prompt is shown until resume(); close()
// (also run by the destructor) erases an unfinished input area and gives the terminal back in
// its original (cooked) mode.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace achat::client {

class LineEditor {
 public:
  struct Input {
    bool end_of_input = false;  // Ctrl-D on an empty line
    std::string text;           // the line, without its newline
  };

  explicit LineEditor(std::string prompt);
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;
  ~LineEditor();

  int input_fd() const noexcept;

  // Lets libedit consume one key from the (readable) input descriptor. Returns the finished
  // input if that key finished one (Enter or Ctrl-D); the prompt then stays hidden until
  // resume().
  std::optional<Input> read_key();

  // After read_key() returned an input or abandon(): shows `prompt` followed by `text` (the
  // line starts empty unless given), the cursor at its end.
  void resume(std::string prompt, std::string_view text = {});

  // Adds a line to the history that the Up key walks through.
  void remember(const std::string& line);
  // Bounds that history to the newest `entries` lines.
  void keep_at_most(std::size_t entries);

  // Prints `line` (which must not contain control characters) on its own line above the
  // prompt, then redraws the prompt with the typed text and cursor as they were.
  void print_above(std::string_view line);

  // Stops editing without finishing the line: the prompt and the typed text stay on screen
  // (a prompt with nothing typed is erased) and the cursor moves to the start of the row below
  // them; the terminal leaves raw mode. Returns the typed text. Afterwards, as after an input,
  // resume() starts a new line.
  std::string abandon();

  // Erases an unfinished input area, restores the terminal and leaves the cursor at the start
  // of an empty line. Idempotent.
  void close();

 private:
  enum class State { editing, finished, closed };
  // The line being edited and the cursor's byte offset in it.
  struct Typed {
    std::string_view text;
    std::size_t point = 0;
  };

  static void on_line(char* line);
  Typed typed() const;
  std::size_t cursor_row(const Typed& input) const;  // 0 = the prompt's row
  void erase_input_area();

  static LineEditor* active_;
  std::string prompt_;
  std::optional<Input> finished_;
  State state_ = State::editing;
  // libedit publishes rl_line_buffer/rl_point/rl_end only inside rl_callback_read_char(), so
  // after (re)installing the handler they still describe the previous line until the next
  // key. True from then until that key: the line is known to be fresh_text_ (what resume()
  // put there), the cursor at its end.
  bool line_is_fresh_ = true;
  std::string fresh_text_;
};

}  // namespace achat::client
