#include "origin.h"

#include <algorithm>
#include <cctype>

namespace achat::web {

namespace {

bool same_text(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// "https://Host:8443" -> "Host:8443"; an allow-list entry may be written either way.
std::string_view without_scheme(std::string_view origin) {
  if (const auto at = origin.find("://"); at != std::string_view::npos) origin.remove_prefix(at + 3);
  while (!origin.empty() && origin.back() == '/') origin.remove_suffix(1);
  return origin;
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host,
                    const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;
  if (origin == "null") return false;
  const std::string_view from = without_scheme(origin);
  if (from.empty()) return false;
  if (allowed.empty()) return same_text(from, host);
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& entry) { return same_text(from, without_scheme(entry)); });
}

}  // namespace achat::web
