// Process-wide logging setup: spdlog to stderr, one timestamped line per event.
#pragma once

#include <string_view>

namespace achat {

// Installs the stderr logger as spdlog's default. Returns false if `level` is not one of
// trace, debug, info, warn, error, critical, off. Call once, before starting threads.
bool init_logging(std::string_view level);

}  // namespace achat
