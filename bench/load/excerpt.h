// excerpt(): a received line as a failure message quotes it, cut short so that a runaway line
// cannot flood the report. Pure; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace achat::load {

inline std::string excerpt(std::string_view line) {
  constexpr std::size_t kMax = 160;
  std::string text;
  text.reserve(kMax + 5);
  text.append(1, '\'').append(line.substr(0, kMax)).append(1, '\'');
  if (line.size() > kMax) text.append("...");
  return text;
}

}  // namespace achat::load
