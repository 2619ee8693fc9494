// The browser page the web listener serves: HTML, CSS and JavaScript compiled into the binary.
#pragma once

#include <string_view>

namespace achat::web {

struct Asset {
  std::string_view path;          // "/", "/app.js", "/app.css"
  std::string_view content_type;  // with charset
  std::string_view body;
};

// The asset served at `path` (query string already removed), or nullptr. Static data: any thread.
const Asset* find_asset(std::string_view path) noexcept;

}  // namespace achat::web
