// What the tests that run a-chat-load share: where the binary is, and reading its JSON result.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace achat::testing {

// a-chat-load's path, from ACHAT_LOAD_BINARY (set by bench/meson.build); empty if unset.
inline std::string load_binary() {
  const char* path = std::getenv("ACHAT_LOAD_BINARY");
  return path != nullptr ? path : "";
}

// The number after "key": in a-chat-load's one-line JSON, if it is there.
inline std::optional<double> json_number(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\": ";
  const auto at = json.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(json.c_str() + at + quoted.size(), nullptr);
}

}  // namespace achat::testing
