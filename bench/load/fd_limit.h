// Raises this process's open-file soft limit to its hard limit (one socket per client).
#pragma once

#include <cstdint>

namespace achat::load {

// Returns the soft limit now in force.
std::uint64_t raise_open_file_limit();

}  // namespace achat::load
