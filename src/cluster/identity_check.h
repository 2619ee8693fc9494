// Before a node speaks for its id: is another live process already using it?
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "claim_record.h"
#include "nats_handles.h"

namespace achat::cluster {

// Called once, by the thread that creates the Node, before any cluster thread starts (so before
// this run beats or claims anything). Listens on `self.node`'s heartbeat subject for `window`
// on the connected `connection` (a temporary subscription of its own) and returns the refusal
// text if a beat from another run of the same id arrives: two live processes under one id would
// delete each other's claims, and the other nodes would take this run's first beat as proof that
// the live one is dead (issue 16, point 5). nullopt if none comes. A run that crashed no longer
// beats, so a restart after a crash is not refused; neither is one whose twin beats less often
// than `window` (a longer --node-silence-ms than this one's). Throws std::runtime_error if cnats
// cannot subscribe.
std::optional<std::string> live_twin(natsConnection* connection, const ClaimOwner& self,
                                     std::chrono::milliseconds window);

// How long live_twin() listens for a node that beats every `interval`: one beat and half
// another, for scheduling and network jitter.
constexpr std::chrono::milliseconds twin_window(std::chrono::milliseconds interval) {
  return interval + interval / 2;
}

}  // namespace achat::cluster
