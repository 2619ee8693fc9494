// The node id a cluster node uses when --node-id is not given.
#pragma once

#include <string>
#include <string_view>

namespace achat {

// Called once, by the option parser, on the main thread. The machine's fully qualified host
// name (gethostname(); if that has no dot, the canonical name the resolver gives for it, from
// /etc/hosts or DNS), with each '.' written as '_': a node id is one NATS subject token, and a
// host name never contains '_', so two different host names (web1.dc1, web1.dc2) never give the
// same id. Empty if the machine has no host name.
std::string default_node_id();

// The id for `host` (a host name, dots allowed): '.' as '_'. Pure; for tests.
std::string node_id_for_host(std::string_view host);

}  // namespace achat
