#include "presence.h"

#include <charconv>
#include <memory>
#include <spdlog/spdlog.h>

namespace achat::cluster {

namespace {

constexpr std::chrono::milliseconds kPoll{200};

std::string beat_payload(const ClaimOwner& self, std::chrono::milliseconds interval) {
  return self.to_value() + " " + std::to_string(interval.count());
}

long long whole_ms(NodeRoster::Clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

std::optional<std::pair<ClaimOwner, std::chrono::milliseconds>> parse_beat(std::string_view payload) {
  const auto space = payload.rfind(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::int64_t interval = 0;
  const std::string_view number = payload.substr(space + 1);
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), interval);
  if (error != std::errc() || end != number.data() + number.size() || interval <= 0) return std::nullopt;
  auto owner = ClaimOwner::parse(payload.substr(0, space));
  if (!owner) return std::nullopt;
  return std::make_pair(std::move(*owner), std::chrono::milliseconds(interval));
}

void Presence::operator()() {
  const std::string subject = presence_subject(self.node);
  const std::string payload = beat_payload(self, interval);
  auto next_beat = NodeRoster::Clock::now();
  auto next_sweep = next_beat + interval;
  while (!stop.stopped()) {
    auto now = NodeRoster::Clock::now();
    if (now >= next_beat) {
      send_beat(subject, payload);
      next_beat = now + interval;
    }
    if (now >= next_sweep) {
      for (const auto& change : roster.sweep(now, next_sweep)) report(change);
    }
    const auto wake = std::min({next_beat, next_sweep, now + kPoll});
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
    natsMsg* raw = nullptr;
    const natsStatus status = natsSubscription_NextMsg(&raw, beats, std::max<std::int64_t>(wait.count(), 1));
    if (status == NATS_OK) {
      const NatsMsgHandle message(raw);
      receive(message.get());
    } else if (status != NATS_TIMEOUT && status != NATS_SLOW_CONSUMER) {
      spdlog::error("cluster: heartbeat subscription ended: {}", last_nats_error(status));
      stop.wait_for(kPoll);
    }
  }
  inbox.reset();
}

void Presence::send_beat(const std::string& subject, const std::string& payload) {
  if (natsConnection_Status(connection) != NATS_CONN_STATUS_CONNECTED) return;
  natsConnection_Publish(connection, subject.c_str(), payload.data(), static_cast<int>(payload.size()));
}

void Presence::receive(natsMsg* message) {
  const auto beat = parse_beat(std::string_view(natsMsg_GetData(message),
                                                static_cast<std::size_t>(natsMsg_GetDataLength(message))));
  if (!beat) return;
  if (auto change = roster.beat(beat->first, beat->second, NodeRoster::Clock::now())) report(*change);
}

void Presence::report(const NodeRoster::Change& change) {
  using Kind = NodeRoster::Change::Kind;
  switch (change.kind) {
    case Kind::joined:
      ClusterStats::add(stats.nodes_joined);
      spdlog::info("cluster: node {} joined (run {})", change.node, change.run);
      break;
    case Kind::returned:
      ClusterStats::add(stats.nodes_returned);
      spdlog::info("cluster: node {} is heard again (run {}); its users are reachable again",
                   change.node, change.run);
      break;
    case Kind::restarted:
      ClusterStats::add(stats.nodes_restarted);
      spdlog::info("cluster: node {} restarted (run {} replaces run {}); the previous run's logins "
                   "are released",
                   change.node, change.run, change.previous_run);
      break;
    case Kind::silent:
      ClusterStats::add(stats.nodes_silent);
      spdlog::warn("cluster: node {} left: silent for {} ms; its users are not online from here "
                   "until it is heard again, and their names stay taken until their claims expire",
                   change.node, whole_ms(change.silent_for));
      break;
    case Kind::duplicate:
      spdlog::error("cluster: two processes use node id {} (runs {} and {}); beats of run {} are "
                    "ignored: give each node its own --node-id",
                    change.node, change.previous_run, change.run, change.run);
      return;
  }
  inbox.send(std::make_unique<NodePresence>(NodePresence{
      change.node, change.kind != Kind::silent, change.kind == Kind::restarted ? change.previous_run : ""}));
}

std::string held_by_silent_node(std::string_view typed, std::string_view node,
                                std::chrono::milliseconds silent, std::chrono::milliseconds free_in) {
  // Whole seconds: the silence rounded down, the wait rounded up (a promise of "at most").
  const auto silent_s = std::chrono::duration_cast<std::chrono::seconds>(silent).count();
  const auto free_s = std::chrono::ceil<std::chrono::seconds>(std::max(free_in, std::chrono::milliseconds(0))).count();
  return "login \"" + std::string(typed) + "\" is held by node " + std::string(node) +
         ", which has been silent for " + std::to_string(silent_s) + " s; free in at most " +
         std::to_string(free_s) + " s, disconnecting";
}

}  // namespace achat::cluster
