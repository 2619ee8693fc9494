// The body of the presence thread: this node's heartbeats out, the other nodes' in.
#pragma once

#include <chrono>
#include <optional>
#include <utility>
#include <string>

#include "achat/channel.h"
#include "achat/events.h"
#include "claim_record.h"
#include "cluster_stats.h"
#include "nats_handles.h"
#include "node_roster.h"
#include "stop_flag.h"

namespace achat::cluster {

// The subject a node's heartbeats go out on; the presence thread subscribes to all of them
// (kPresenceSubjects), once, at start-up. A beat is "<node> <run> <interval ms>".
inline std::string presence_subject(std::string_view node) { return "achat.presence." + std::string(node); }
inline constexpr const char* kPresenceSubjects = "achat.presence.*";
// A beat's node, run and interval; nullopt if malformed.
std::optional<std::pair<ClaimOwner, std::chrono::milliseconds>> parse_beat(std::string_view payload);

// Runs on its own thread, which waits only on its subscription (never on JetStream), so a slow
// claims bucket cannot make a live node look silent. Every `interval` it publishes this node's
// beat on the lines connection (the one chat lines take: a node whose beats do not arrive is one
// whose lines would not either), only while it is connected (cnats would hold it and send it
// late). Each beat received goes to the roster; each change the roster reports is logged (one
// line per join, departure, return, restart) and, when it changes who is reachable, sent to the
// broker as a NodePresence through this thread's own Sender, so the broker alone changes its
// directory. Returns, releasing its Sender, within kPoll of `stop`.
struct Presence {
  natsConnection* connection;
  natsSubscription* beats;  // on kPresenceSubjects
  NodeRoster& roster;
  ClaimOwner self;
  std::chrono::milliseconds interval;
  Sender<BrokerEvent> inbox;
  StopFlag& stop;
  ClusterStats& stats;

  void operator()();

 private:
  void send_beat(const std::string& subject, const std::string& payload);
  void receive(natsMsg* message);
  void report(const NodeRoster::Change& change);
};

// The refusal of a login whose name is held by `node`, silent for `silent`; its claim expires
// within `free_in` unless the node comes back (see Node::claim).
std::string held_by_silent_node(std::string_view typed, std::string_view node,
                                std::chrono::milliseconds silent, std::chrono::milliseconds free_in);

}  // namespace achat::cluster
