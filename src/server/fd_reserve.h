// How many descriptors refused connections may hold at once without touching the fds every
// other part of the server relies on.
#pragma once

#include <cstddef>

#include "ops/process_limits.h"  // kReservedFds

namespace achat {

// Sockets the refusal thread may hold at once, given `fd_limit` (RLIMIT_NOFILE) and
// `max_clients`: half of what the client limit leaves, at most `ceiling`. The other half stays
// for everything else, so refusals can never make accept(), the log, a SIGHUP reopen, the
// metrics endpoint or NATS fail with EMFILE. With max_clients sized automatically that is
// kReservedFds / 2 = 32; 0 when the client limit leaves nothing (each refusal is then closed at
// once, after its error line).
std::size_t refusal_fd_budget(std::size_t fd_limit, std::size_t max_clients, std::size_t ceiling);

// The same for this process's current RLIMIT_NOFILE soft limit.
std::size_t refusal_fd_budget(std::size_t max_clients, std::size_t ceiling);

}  // namespace achat
