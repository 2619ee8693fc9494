// Which other nodes of the cluster are alive, as their heartbeats tell, and which of their runs
// are known dead.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "claim_record.h"

namespace achat::cluster {

// Shared by the presence thread (beat, expect, sweep: everything that changes a node's state),
// the watcher thread (expect; take_retired and retired, to delete a dead run's claims) and
// reader threads (silence, for a refused login's text). One mutex guards everything; no call
// waits on anything else.
// Promises: a node is silent once no beat of its live run has come for its window (the larger
// of this node's `silent_after` and three of the beat intervals it announces), and reported so
// by sweep() once per silence; a beat from a run other than the live one is proof that the live
// run is dead (one node id, one process: issue 16, point 5) and retires it for good, so
// retired() stays true for it; a beat from a retired run never revives it (two processes under
// one id: reported, ignored). This node's own beats are ignored.
class NodeRoster {
 public:
  using Clock = std::chrono::steady_clock;

  struct Change {
    enum class Kind {
      joined,     // first beat of a node (or of a node whose claims were seen before it beat)
      returned,   // beats again after being silent
      restarted,  // a new run: `previous_run` is dead
      silent,     // no beat for its window: `silent_for` since the last
      duplicate,  // a beat from a retired run: two processes share the id (logged once per run)
    };
    Kind kind;
    std::string node;
    std::string run;
    std::string previous_run;
    Clock::duration silent_for{};
  };

  NodeRoster(std::string self, Clock::duration silent_after)
      : self_(std::move(self)), silent_after_(silent_after) {}

  // Presence thread. `interval`: how often the node says it beats.
  std::optional<Change> beat(const ClaimOwner& owner, Clock::duration interval, Clock::time_point now);
  // The nodes that have just gone silent (each once per silence), and when the next one could.
  std::vector<Change> sweep(Clock::time_point now, Clock::time_point& next);

  // Watcher thread: a node holds claims; if it has never beaten, it counts from `now`, so a
  // node that died before this one started is found silent too.
  void expect(std::string_view node, Clock::time_point now);
  // Watcher thread: runs retired since the last call, whose claims are to be deleted.
  std::vector<ClaimOwner> take_retired();
  bool retired(const ClaimOwner& owner) const;

  // Any thread: how long `node` has been silent, if it is silent now; nullopt if it beats (or
  // is unknown).
  std::optional<Clock::duration> silence(std::string_view node, Clock::time_point now) const;
  std::size_t live() const;  // known nodes not silent, this one excluded

 private:
  struct Peer {
    std::string run;  // empty until its first beat (known from its claims)
    Clock::time_point last_beat;
    Clock::duration window;
    bool silent = false;
    std::vector<std::string> retired;  // its dead runs, oldest first (a few: kRetiredRuns)
    std::vector<std::string> duplicates_reported;
  };

  const std::string self_;
  const Clock::duration silent_after_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Peer> peers_;  // guarded by mutex_
  std::vector<ClaimOwner> newly_retired_;        // guarded by mutex_
};

}  // namespace achat::cluster
