// History: the lines a person sent from the interactive client, kept between sessions in a
// file ($XDG_STATE_HOME/a-chat/history, by default ~/.local/state/a-chat/history), one line
// per entry, oldest first.
//
// Owns: the path and a count of the entries the file holds. Reads and writes the file only
// inside load() and add(); no descriptor stays open between calls.
// Threads: the interactive session's thread only.
// Promise: missing directories are created with mode 0700 and the file with mode 0600 (the
// modes of existing ones are left alone). The file keeps the newest kMaxEntries entries: each
// add() appends one line (O_APPEND, so two clients at once do not tear each other's lines),
// and the file is rewritten with the newest entries once it holds more. A failure never
// throws: load() and add() return a one-line warning instead, add() only for its first
// failure in a session so a broken disk does not flood the screen.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace achat::client {

class History {
 public:
  static constexpr std::size_t kMaxEntries = 1000;

  // Looks up an environment variable; nullptr if unset.
  using Environment = std::function<const char*(const char*)>;
  // $XDG_STATE_HOME/a-chat/history if XDG_STATE_HOME is an absolute path (the XDG Base
  // Directory rule), else $HOME/.local/state/a-chat/history; nullopt without either.
  static std::optional<std::filesystem::path> default_path(const Environment& environment);

  // No path: a history that remembers nothing (load() and add() do nothing).
  explicit History(std::optional<std::filesystem::path> path,
                   std::size_t max_entries = kMaxEntries);

  // Reads the file (a missing file is an empty history) into `entries`, the newest
  // max_entries, oldest first; trims the file if it holds more. A warning on failure.
  std::optional<std::string> load(std::vector<std::string>& entries);
  // Appends one entry (which must not contain '\n'). A warning on the session's first failure.
  std::optional<std::string> add(const std::string& entry);

 private:
  std::optional<std::string> rewrite(const std::vector<std::string>& entries);
  std::optional<std::string> warn_once(const std::string& what, int error);

  std::optional<std::filesystem::path> path_;
  std::size_t max_entries_;
  std::size_t entries_in_file_ = 0;  // as far as this session knows
  bool warned_ = false;
};

}  // namespace achat::client
