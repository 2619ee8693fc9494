#include "default_node_id.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace achat {

namespace {

// The resolver's canonical name for `host` if it is a longer name of the same host
// ("web1" -> "web1.dc1.example.org"); otherwise `host`. A resolver that cannot say (no entry in
// /etc/hosts, no DNS) leaves the short name.
std::string qualified(const std::string& host) {
  if (host.find('.') != std::string::npos) return host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return host;
  std::string canonical = found->ai_canonname ? found->ai_canonname : "";
  ::freeaddrinfo(found);
  // Only a name that extends this one: "localhost" or an alias is no better.
  if (canonical.size() > host.size() + 1 && canonical.compare(0, host.size() + 1, host + ".") == 0) {
    return canonical;
  }
  return host;
}

}  // namespace

std::string node_id_for_host(std::string_view host) {
  std::string id(host);
  if (!id.empty() && id.back() == '.') id.pop_back();  // a rooted name, "web1.example.org."
  std::replace(id.begin(), id.end(), '.', '_');
  return id;
}

std::string default_node_id() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return {};
  return node_id_for_host(qualified(name));
}

}  // namespace achat
