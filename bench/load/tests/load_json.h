// What the tests that run a-chat-load share: where the binary is, reading its JSON result, and
// what a passing churn run shows.
#pragma once

#include <gtest/gtest.h>

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

// A churn run that passed: exit status 0, no failed cycle, and more connections than `slots`
// (every slot came back after leaving at least once).
inline void expect_churn_passed(int status, const std::string& json, double slots) {
  EXPECT_EQ(status, 0) << json;
  EXPECT_EQ(json_number(json, "failures"), 0) << json;
  EXPECT_GT(json_number(json, "connections").value_or(0), slots) << json;
}

}  // namespace achat::testing
