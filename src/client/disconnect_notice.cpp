#include "disconnect_notice.h"

namespace achat::client {

bool is_disconnect_notice(std::string_view line) {
  return line.starts_with("error: ") &&
         (line.ends_with(", disconnecting") || line == "error: server full" ||
          line == "error: server shutting down" || is_cluster_unavailable(line));
}

bool is_cluster_unavailable(std::string_view line) {
  return line == "error: cluster unavailable, try again" ||
         line == "error: cluster unavailable, disconnecting";
}

bool is_login_refusal(std::string_view line) {
  return is_disconnect_notice(line) &&
         ((line.starts_with("error: login \"") &&
           (line.ends_with("\" is already online, disconnecting") ||
            line.find("\" is held by node ") != std::string_view::npos)) ||
          line.starts_with("error: invalid login: "));
}

void LastServerLine::keep(std::string& into, std::string_view bytes) {
  // One byte past the limit marks the line as too long to be a notice.
  const std::size_t room = into.size() > kMaxKept ? 0 : kMaxKept + 1 - into.size();
  into.append(bytes.substr(0, room));
}

void LastServerLine::feed(std::string_view bytes) {
  const auto last_newline = bytes.rfind('\n');
  if (last_newline == std::string_view::npos) {
    keep(current_, bytes);
    return;
  }
  const auto previous =
      last_newline == 0 ? std::string_view::npos : bytes.rfind('\n', last_newline - 1);
  if (previous == std::string_view::npos) {
    complete_ = std::move(current_);
    keep(complete_, bytes.substr(0, last_newline));
  } else {
    complete_.clear();
    keep(complete_, bytes.substr(previous + 1, last_newline - previous - 1));
  }
  current_.clear();
  keep(current_, bytes.substr(last_newline + 1));
}

std::optional<std::string> LastServerLine::disconnect_notice() const {
  const std::string& last = current_.empty() ? complete_ : current_;
  if (last.size() > kMaxKept || !is_disconnect_notice(last)) return std::nullopt;
  return last;
}

}  // namespace achat::client
