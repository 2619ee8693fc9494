#include "fd_reserve.h"

#include <algorithm>
#include <sys/resource.h>

namespace achat {

std::size_t refusal_fd_budget(std::size_t fd_limit, std::size_t max_clients, std::size_t ceiling) {
  if (fd_limit <= max_clients) return 0;
  return std::min(ceiling, (fd_limit - max_clients) / 2);
}

std::size_t refusal_fd_budget(std::size_t max_clients, std::size_t ceiling) {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) {
    return refusal_fd_budget(max_clients + 2 * ceiling, max_clients, ceiling);
  }
  return refusal_fd_budget(static_cast<std::size_t>(files.rlim_cur), max_clients, ceiling);
}

}  // namespace achat
