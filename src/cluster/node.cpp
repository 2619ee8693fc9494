#include "node.h"

#include <random>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "fence.h"
#include "identity_check.h"
#include "presence.h"
#include "keeper.h"
#include "publisher.h"
#include "subscriber.h"
#include "watcher.h"
#include "envelope.h"

namespace achat::cluster {

namespace {

// The cluster threads call cnats and format log lines: more than a reader's stack, still small.
constexpr std::size_t kThreadStackBytes = 256 * 1024;
// A login waits at most this long for the claims bucket before it is refused (fail closed).
constexpr std::chrono::milliseconds kRequestTimeout{2'000};
// Reconnect forever, quickly: a killed server is replaced by another one the client knows.
constexpr std::int64_t kReconnectWaitMs = 250;
// A server that stops answering (not just closing) is detected after three to four seconds: the
// connection is then closed and made again, to the next server that answers. Three pings, not
// two: a server's PONG queues behind what it is sending, and under a sanitizer a node reading
// megabytes of lines took over 2 s to reach it.
constexpr std::int64_t kPingIntervalMs = 1'000;
constexpr int kMaxPingsOut = 3;
// A write to NATS that cannot finish within this fails, and cnats shuts the socket down and
// reconnects. Without it cnats 3.4.1 waits forever on a socket whose peer stopped reading, holding
// the connection's lock, and its one timer thread, which sends every connection's pings, then
// waits for that lock too: a stalled server would stall both connections, their stale-connection
// detection, and shutdown. 2 s: far longer than a healthy server takes to take a 64 KiB
// publication, shorter than the default claim TTL's fence margin.
constexpr std::int64_t kWriteDeadlineMs = 2'000;
// Incoming publications cnats may hold for the subscriber while it waits for the broker (its
// ByteWindow is full): past either limit cnats drops them and reports a slow consumer. 8 MiB is
// tens of milliseconds of a saturated loopback link, enough to ride out a broker's hiccup; the
// count bounds what many small publications cost (cnats keeps each in its own allocation, about
// 100 bytes beyond its payload): 65,536 of them, cnats's default count, stay under 16 MiB.
constexpr int kPendingMessages = 65'536;
constexpr int kPendingBytes = 8 * 1024 * 1024;
// The same for heartbeats (about 100 bytes each, one per node every third of the silence limit).
constexpr int kBeatPendingMessages = 1'024;
constexpr int kBeatPendingBytes = 1024 * 1024;
// Bytes of lines from other nodes handed to the broker and not yet handled, and of lines for
// other nodes waiting for the publisher (both counted as queued lines are: see byte_window.h).
// A reader may have 256 KiB unrouted (--max-unrouted-bytes); the subscriber carries every other
// node's lines, and the publisher every line to them, so each gets the share of 16 readers.
constexpr std::int64_t kInboundWindowBytes = 4 * 1024 * 1024;
constexpr std::int64_t kOutboundWindowBytes = 4 * 1024 * 1024;
// What cnats may hold for publication while it reconnects. Nothing held while cut off may be
// delivered once stale (a chat line later than the claim TTL, a claim write), so as little as
// cnats allows: 0 means its 8 MiB default, and it refuses a publication only once the buffer
// holds this much, so 1 byte lets at most one publication in. The publisher and the keeper
// also publish nothing while the connection is not up.
constexpr int kReconnectBufferBytes = 1;

std::string random_incarnation() {
  std::random_device seed;
  std::mt19937_64 generator((static_cast<std::uint64_t>(seed()) << 32) ^ seed());
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(generator()));
  return text;
}

void check(natsStatus status, const char* what) {
  if (status != NATS_OK) {
    throw std::runtime_error(std::string("cluster: ") + what + ": " + last_nats_error(status));
  }
}

// `label`: "<node> lines" or "<node> claims", the connection's name in the log.
void log_disconnected(natsConnection* connection, void* label) {
  if (natsConnection_IsClosed(connection)) return;  // our own shutdown
  spdlog::warn("cluster: {} lost its NATS server; reconnecting", *static_cast<const std::string*>(label));
}

// cnats's asynchronous errors on a connection: a subscription past its pending limits (once per
// episode: cnats reports it again only after it has accepted a publication since), or others.
void count_async_error(natsConnection*, natsSubscription* subscription, natsStatus error, void* stats) {
  if (error == NATS_SLOW_CONSUMER) {
    ClusterStats::add(static_cast<ClusterStats*>(stats)->slow_consumer);
    spdlog::warn("cluster: this node fell behind on {}: cnats drops publications for it",
                 subscription ? natsSubscription_GetSubject(subscription) : "a subscription");
  } else {
    spdlog::warn("cluster: NATS reported: {}", natsStatus_GetText(error));
  }
}

void log_reconnected(natsConnection* connection, void* label) {
  char url[256] = "";
  natsConnection_GetConnectedUrl(connection, url, sizeof url);
  spdlog::info("cluster: {} connected to {}", *static_cast<const std::string*>(label), url);
}

// `label` must outlive the options and every connection made with them.
NatsOptionsHandle make_options(const ClusterConfig& config, const std::string& label, ClusterStats& stats) {
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "options");
  NatsOptionsHandle options(raw);
  std::vector<const char*> servers;
  for (const auto& server : config.servers) servers.push_back(server.c_str());
  check(natsOptions_SetServers(options.get(), servers.data(), static_cast<int>(servers.size())),
        "server list");
  check(natsOptions_SetNoRandomize(options.get(), true), "server order");
  // Only the servers the operator listed: a node's failover path is what its command line says.
  check(natsOptions_SetIgnoreDiscoveredServers(options.get(), true), "server list");
  check(natsOptions_SetName(options.get(), ("a-chat " + label).c_str()), "name");
  // Each publication goes out at once instead of waiting for cnats's flusher thread: a line to
  // another node is a chat line in flight (../shared/notes/nats.md: p99 0.9-1.2 ms buffered,
  // 0.2-0.3 ms sent at once, for about 5% less throughput).
  check(natsOptions_SetSendAsap(options.get(), true), "send at once");
  check(natsOptions_SetMaxReconnect(options.get(), -1), "reconnects");
  check(natsOptions_SetReconnectWait(options.get(), kReconnectWaitMs), "reconnect wait");
  check(natsOptions_SetReconnectBufSize(options.get(), kReconnectBufferBytes), "reconnect buffer");
  // A request in flight when the connection drops fails at once instead of at its timeout.
  check(natsOptions_SetFailRequestsOnDisconnect(options.get(), true), "requests on disconnect");
  check(natsOptions_SetPingInterval(options.get(), kPingIntervalMs), "ping interval");
  check(natsOptions_SetMaxPingsOut(options.get(), kMaxPingsOut), "pings");
  check(natsOptions_SetWriteDeadline(options.get(), kWriteDeadlineMs), "write deadline");
  check(natsOptions_SetErrorHandler(options.get(), count_async_error, &stats), "error handler");
  void* closure = const_cast<std::string*>(&label);
  check(natsOptions_SetRetryOnFailedConnect(options.get(), true, log_reconnected, closure), "retry");
  check(natsOptions_SetDisconnectedCB(options.get(), log_disconnected, closure), "disconnect callback");
  check(natsOptions_SetReconnectedCB(options.get(), log_reconnected, closure), "reconnect callback");
  return options;
}

// Connects in the background if no server answers yet (cnats retries); throws on a bad
// configuration. `reachable` is cleared if no server answered.
NatsConnectionHandle connect(natsOptions* options, bool& reachable) {
  natsConnection* connection = nullptr;
  const natsStatus status = natsConnection_Connect(&connection, options);
  if (status != NATS_OK && status != NATS_NOT_YET_CONNECTED) check(status, "connect");
  if (status == NATS_NOT_YET_CONNECTED) reachable = false;
  return NatsConnectionHandle(connection);
}

}  // namespace

Node::Node(ClusterConfig config, Sender<BrokerEvent> inbox)
    : config_(std::move(config)),
      self_{config_.node_id, random_incarnation()},
      lines_label_(self_.node + " lines"),
      claims_label_(self_.node + " claims"),
      lines_options_(make_options(config_, lines_label_, stats_)),
      claims_options_(make_options(config_, claims_label_, stats_)),
      inbound_(kInboundWindowBytes),
      outbound_(kOutboundWindowBytes),
      roster_(config_.node_id, std::chrono::milliseconds(config_.node_silence_ms)),
      crew_(kThreadStackBytes) {
  // The lines connection also learns the servers' max payload on every (re)connect.
  const natsConnectionHandler lines_connected = [](natsConnection* connection, void* node) {
    auto* self = static_cast<Node*>(node);
    log_reconnected(connection, const_cast<std::string*>(&self->lines_label_));
    self->payload_limit_.update(connection);
  };
  check(natsOptions_SetRetryOnFailedConnect(lines_options_.get(), true, lines_connected, this), "retry");
  check(natsOptions_SetReconnectedCB(lines_options_.get(), lines_connected, this), "reconnect callback");
  bool reachable = true;
  lines_connection_ = connect(lines_options_.get(), reachable);
  payload_limit_.update(lines_connection_.get());
  claims_connection_ = connect(claims_options_.get(), reachable);
  const std::chrono::milliseconds beat_interval(std::max(config_.node_silence_ms / 3, 1u));
  if (!reachable) {
    spdlog::warn("cluster: no NATS server reachable yet; logins are refused until one is (and "
                 "node id {} cannot be checked for a live twin)", self_.node);
  } else if (auto twin = live_twin(lines_connection_.get(), self_, twin_window(beat_interval))) {
    throw std::runtime_error("cluster: " + *twin);
  }
  natsConnection* lines = lines_connection_.get();
  natsConnection* claims = claims_connection_.get();
  natsSubscription* subscription = nullptr;
  check(natsConnection_SubscribeSync(&subscription, lines, node_subject(self_.node).c_str()),
        "subscribe");
  subscription_.reset(subscription);
  check(natsSubscription_SetPendingLimits(subscription, kPendingMessages, kPendingBytes), "limits");
  natsSubscription* beats = nullptr;
  check(natsConnection_SubscribeSync(&beats, lines, kPresenceSubjects), "subscribe to heartbeats");
  beats_.reset(beats);
  check(natsSubscription_SetPendingLimits(beats, kBeatPendingMessages, kBeatPendingBytes), "limits");
  const std::chrono::milliseconds ttl(config_.claim_ttl_ms);
  bucket_ = std::make_unique<ClaimsBucket>(claims, ttl, kRequestTimeout,
                                           static_cast<int>(config_.replicas()));
  // A bucket with another TTL or replica count stops the start (exit 1) if NATS can tell now;
  // otherwise the watcher finds out when it binds, logs it, and logins stay refused.
  if (reachable && !bucket_->bind() && bucket_->refusal()) throw std::runtime_error(*bucket_->refusal());
  refresher_ = std::make_unique<ClaimRefresher>(claims, kRequestTimeout);

  auto [forwards, forwards_receiver] = make_channel<Forward>();
  forwards_ = std::move(forwards);
  crew_.spawn("cluster watcher",
              Watcher{claims, *bucket_, self_, inbox, ready_, receiving_stopped_, stats_, roster_, book_, ttl, {}, {}});
  crew_.spawn("cluster presence",
              Presence{lines, beats, roster_, self_, beat_interval, inbox, receiving_stopped_, stats_});
  crew_.spawn("cluster fence", Fence{book_, inbox, receiving_stopped_, ttl, stats_});
  crew_.spawn("cluster subscriber", Subscriber{subscription, std::move(inbox), inbound_, receiving_stopped_, stats_});
  crew_.spawn("cluster publisher",
              Publisher{lines, std::move(forwards_receiver), outbound_, self_.node, self_.incarnation, ttl, stats_});
  crew_.spawn("cluster keeper", Keeper{book_, *bucket_, *refresher_, claims, ttl, kRequestTimeout, stats_});
  spdlog::info("cluster: node {} (run {}), claim TTL {} ms, {} claim replica(s), silent after {} ms",
               self_.node, self_.incarnation, ttl.count(), config_.replicas(), config_.node_silence_ms);
}

Node::~Node() {
  stop_receiving();
  forwards_.reset();
  book_.stop();
  crew_.join_all();
  if (natsConnection_Status(lines_connection_.get()) == NATS_CONN_STATUS_CONNECTED) {
    natsConnection_FlushTimeout(lines_connection_.get(), kRequestTimeout.count());  // the last lines out
  }
  spdlog::info("cluster: {}", summary());
  subscription_.reset();
  beats_.reset();
  refresher_.reset();
  bucket_.reset();
  natsConnection_Close(claims_connection_.get());
  natsConnection_Close(lines_connection_.get());
}

std::unique_ptr<LoginLease> Node::claim(const LoginName& login, std::string& refusal) {
  if (!confirming_logins()) {
    ClusterStats::add(stats_.claims_unavailable);
    refusal = "cluster unavailable, try again";
    return nullptr;
  }
  // The epoch as the create is sent: if the stream is made again meanwhile, the claim is taken
  // for the old stream's, which the keeper claims again (or finds taken: fail closed). A nonce of
  // its own, so a create whose acknowledgement is lost can be read back (and every write of this
  // claim stores the same value).
  ClaimBook::Claim claim{claim_key(login.unique), 0, bucket_->epoch(),
                         ClaimValue{self_, random_nonce(), 0, ClaimValue::kVersion, login.typed}.to_value()};
  const auto sent = ClaimBook::Clock::now();  // the claim's life counts from here (fence.h)
  switch (bucket_->create(claim.key, claim.value, claim.revision)) {
    case ClaimOutcome::done:
      ClusterStats::add(stats_.claims);
    {
      const ClaimStamp stamp{claim.epoch, claim.revision};
      return std::make_unique<Lease>(book_, book_.hold(std::move(claim), sent), stamp);
    }
    case ClaimOutcome::conflict:
      ClusterStats::add(stats_.claims_taken);
      refusal = taken_refusal(login, claim.key);
      return nullptr;
    case ClaimOutcome::unavailable:
      break;
  }
  ClusterStats::add(stats_.claims_unavailable);
  refusal = "cluster unavailable, try again";
  return nullptr;
}

// One more read, only for a refused login: who holds the name, and since when.
std::string Node::taken_refusal(const LoginName& login, const std::string& key) {
  std::string value;
  std::uint64_t revision = 0;
  std::chrono::system_clock::time_point written;
  if (bucket_->read(key, value, revision, written) == ClaimOutcome::done) {
    const auto holder = ClaimOwner::parse(value);
    const auto silent = holder ? roster_.silence(holder->node, NodeRoster::Clock::now()) : std::nullopt;
    if (silent) {
      // The bucket's max age counts from the last write on the NATS server's clock: unless the
      // node writes again (it was only cut off from here), the claim is gone by then.
      const auto expires = written + std::chrono::milliseconds(config_.claim_ttl_ms);
      return held_by_silent_node(
          login.typed, holder->node, std::chrono::duration_cast<std::chrono::milliseconds>(*silent),
          std::chrono::duration_cast<std::chrono::milliseconds>(expires - std::chrono::system_clock::now()));
    }
  }
  return "login \"" + login.typed + "\" is already online, disconnecting";
}

std::string Node::summary() const {
  const ClusterClaimsLeader leader = stats_.claims_leader.get();
  return stats_.summary() + ", slow consumer dropped " + std::to_string(slow_consumer_dropped()) +
         ", live nodes " + std::to_string(roster_.live()) + ", claims leader " +
         (leader.server.empty() ? std::string("unknown")
                                : leader.server + " (" + std::to_string(leader.current) + "/" +
                                      std::to_string(leader.replicas) + " current)");
}

std::vector<ClusterCounter> Node::counters() const {
  auto counters = stats_.counters();
  counters.push_back({"slow_consumer_dropped",
                      "Publications from other nodes cnats dropped: this node fell behind (pending limits).",
                      slow_consumer_dropped()});
  return counters;
}

std::uint64_t Node::slow_consumer_dropped() const {
  std::int64_t dropped = 0;
  if (!subscription_ || natsSubscription_GetDropped(subscription_.get(), &dropped) != NATS_OK) return 0;
  return static_cast<std::uint64_t>(dropped);
}

bool Node::confirming_logins() const {
  return ready_.load(std::memory_order_acquire) &&
         natsConnection_Status(claims_connection_.get()) == NATS_CONN_STATUS_CONNECTED;
}

std::unique_ptr<ClusterRoutes> Node::routes() {
  return std::make_unique<Routes>(Directory(self_.node, std::chrono::milliseconds(config_.claim_ttl_ms)),
                                  std::move(forwards_), payload_limit_, outbound_, inbound_, stats_);
}

void Node::stop_receiving() { receiving_stopped_.stop(); }

}  // namespace achat::cluster

namespace achat {

std::unique_ptr<ClusterNode> join_cluster(const ClusterConfig& config, Sender<BrokerEvent> inbox) {
  return std::make_unique<cluster::Node>(config, std::move(inbox));
}

}  // namespace achat
