#include "history.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <utility>

#include "achat/unique_fd.h"
#include "io.h"

namespace achat::client {

namespace {

// Like `mkdir -p`, with mode 0700 for each directory it creates. 0 or an errno.
int make_directories(const std::filesystem::path& directory) {
  std::filesystem::path partial;
  for (const auto& part : directory) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) return errno;
  }
  return 0;
}

// 0 or an errno (ENOENT for a missing file).
int read_lines(const std::filesystem::path& path, std::vector<std::string>& lines) {
  lines.clear();
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return errno;
  std::string text;
  std::array<char, 64 * 1024> buffer{};
  for (;;) {
    const ssize_t got = ::read(file.fd(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno;
    if (got == 0) break;
    text.append(buffer.data(), static_cast<std::size_t>(got));
  }
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    if (newline != 0) lines.emplace_back(rest.substr(0, newline));
    if (newline == std::string_view::npos) break;
    rest.remove_prefix(newline + 1);
  }
  return 0;
}

}  // namespace

std::optional<std::filesystem::path> History::default_path(const Environment& environment) {
  const char* state = environment("XDG_STATE_HOME");
  if (state != nullptr && state[0] == '/') {
    return std::filesystem::path(state) / "a-chat" / "history";
  }
  const char* home = environment("HOME");
  if (home == nullptr || home[0] == '\0') return std::nullopt;
  return std::filesystem::path(home) / ".local" / "state" / "a-chat" / "history";
}

History::History(std::optional<std::filesystem::path> path, std::size_t max_entries)
    : path_(std::move(path)), max_entries_(max_entries) {}

std::optional<std::string> History::load(std::vector<std::string>& entries) {
  entries.clear();
  if (!path_) return std::nullopt;
  const int error = read_lines(*path_, entries);
  if (error == ENOENT) return std::nullopt;
  if (error != 0) return warn_once("cannot read history " + path_->string(), error);
  entries_in_file_ = entries.size();
  if (entries.size() <= max_entries_) return std::nullopt;
  entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(max_entries_));
  return rewrite(entries);
}

std::optional<std::string> History::add(const std::string& entry) {
  if (!path_) return std::nullopt;
  const std::string what = "cannot save history to " + path_->string();
  if (const int error = make_directories(path_->parent_path()); error != 0) {
    return warn_once(what, error);
  }
  UniqueFd file(::open(path_->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!file || !write_all(file.fd(), entry + "\n")) return warn_once(what, errno);
  if (++entries_in_file_ <= max_entries_) return std::nullopt;
  std::vector<std::string> entries;
  if (const int error = read_lines(*path_, entries); error != 0) return warn_once(what, error);
  if (entries.size() > max_entries_) {
    entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(max_entries_));
  }
  return rewrite(entries);
}

std::optional<std::string> History::rewrite(const std::vector<std::string>& entries) {
  entries_in_file_ = entries.size();
  const std::string what = "cannot trim history " + path_->string();
  // A private temporary name, then rename(): a reader sees the old file or the new one whole.
  std::filesystem::path temporary = *path_;
  temporary += "." + std::to_string(::getpid()) + ".tmp";
  std::string text;
  for (const auto& entry : entries) text += entry + "\n";
  {
    UniqueFd file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!file || !write_all(file.fd(), text)) {
      const int error = errno;
      ::unlink(temporary.c_str());
      return warn_once(what, error);
    }
  }
  if (::rename(temporary.c_str(), path_->c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return warn_once(what, error);
  }
  return std::nullopt;
}

std::optional<std::string> History::warn_once(const std::string& what, int error) {
  if (std::exchange(warned_, true)) return std::nullopt;
  return what + ": " + std::strerror(error);
}

}  // namespace achat::client
