// a-chat-floor: the smallest server that obeys a-chat's design, to measure what the design
// itself costs (issue 18, point 3). Not a server to run: a yardstick, like the relay.
//
// What it keeps, from the project's own code (linked, not copied):
// - a blocking reader thread and a blocking writer thread per client, Boost.Thread with
//   a-chat's stack size, started through the same Crew and its thread cache (crew.h), both
//   under SCHED_BATCH (ops/thread_policy.h);
// - one broker thread that alone owns the map of online logins, fed by the same inbox channel
//   (channel.h: moodycamel, 32 shared producer lanes, the adaptive spin before sleeping, via
//   broker.h's inbox_options and Limits' default broker_spin_us), one round of up to 4,096
//   events, each writer handed its round's lines in one go through its outbox (outbox.h);
// - readers that split lines with the same LineReader and hand the broker every line of one
//   recv() in one send_bulk, lines parsed and formatted by the same protocol code, the message
//   formatted once and shared by its recipients; writers that write up to 64 lines per sendmsg;
// - the futex hash sized for the sleeping threads (ops/futex_hash.h).
// What it omits, and why: everything a-chat adds to that design for safety and operation, so
// the gap between a-chat and this is ours to close and the gap between this and the relay is
// the design's price:
// - limits and accounting: no per-client or global queue caps, no cut clients, no flow control
//   of readers, no login timeout, no send timeout, no keepalive, no max clients, no /who;
// - the login rule (ICU normalisation, confusables): a login is its trimmed first line, unique
//   as an exact string; a taken one gets "error: login ... is already online" and the
//   connection ends. A login is free again as soon as its reader has ended;
// - replies to bad lines and to unknown recipients: such lines and names are dropped;
// - stats, logging (one line: "listening on HOST:PORT"), cluster, web, graceful shutdown:
//   SIGTERM ends the process at once (exit status 143, like the relay).
//
//   a-chat-floor HOST:PORT
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/thread/thread.hpp>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "achat/channel.h"
#include "achat/crew.h"
#include "achat/endpoint.h"
#include "achat/limits.h"
#include "achat/outbox.h"
#include "achat/protocol.h"
#include "achat/socket.h"
#include "broker.h"  // kInboxLanes and inbox_options: the broker inbox's lanes and spin
#include "line_reader.h"
#include "ops/futex_hash.h"
#include "ops/thread_name.h"
#include "ops/thread_policy.h"

namespace achat::floor {
namespace {

// a-chat's defaults for the tuning it shares with the floor: stack size, thread cache, the
// broker's spin, read chunk, longest line (which bounds LineReader's buffer).
const Limits kTuning{};

constexpr std::size_t kMaxRound = 4096;   // events per broker round, as a-chat's broker
constexpr std::size_t kReaderBatch = 64;  // events per hand-over, as a-chat's reader
constexpr std::size_t kWriteBatch = 64;   // lines per sendmsg, as a-chat's writer
constexpr int kListenBacklog = 4096;      // as a-chat's default
// Futex sleepers the hash is sized for: 32,768 buckets, what a-chat asks for on the benchmark
// machine (two per client of its max clients there), room for the 10,000 clients of the crowd
// workloads.
constexpr std::size_t kSleepers = 32'768;

// A reader asks to go online; it waits for `accepted` before reading further.
struct Login {
  std::string name;
  OutboxSender outbox;
  std::promise<bool> accepted;
};
// A chat line from an online reader, formatted once for all its recipients.
struct Chat {
  std::string recipients;
  OutboundLine delivery;
};
// The end of an online reader's stream: its login is free again.
struct Gone {
  std::string name;
};
// monostate first: moodycamel dequeues into default-constructed slots.
using Event = std::variant<std::monostate, std::unique_ptr<Login>, Chat, Gone>;

// Runs on the broker thread alone, which owns every member: the map of online logins and one
// OutboxSender per online peer. Promises: events of one reader are handled in the order sent
// (one inbox lane per reader), and lines reach each writer in the order they were routed, a
// round's lines in one send_bulk. run() returns when every sender of the inbox is gone.
class Broker {
 public:
  explicit Broker(Receiver<Event> inbox) : inbox_(std::move(inbox)) {}

  void run() {
    std::vector<Event> events(kMaxRound);
    while (const std::size_t n = inbox_.receive(events)) {
      for (std::size_t i = 0; i < n; ++i) {
        std::visit([this](auto& event) { handle(event); }, events[i]);
        events[i] = std::monostate{};
      }
      for (Peer* peer : touched_) flush(*peer);
      touched_.clear();
    }
  }

 private:
  struct Peer {
    OutboxSender outbox;
    std::vector<OutboundLine> pending;  // this round's lines
    std::uint64_t last_message = 0;     // dedupes a recipient listed twice in one message
    bool touched = false;               // listed in touched_
  };
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
      return std::hash<std::string_view>{}(name);
    }
  };

  void handle(std::monostate&) {}

  void handle(std::unique_ptr<Login>& login) {
    if (peers_.contains(login->name)) {
      OutboundLine refusal = std::make_shared<const std::string>(
          format_error("login \"" + login->name + "\" is already online"));
      login->outbox.send_bulk(std::span<OutboundLine>(&refusal, 1));
      login->accepted.set_value(false);
      return;  // the outbox closes with the event: the writer writes the refusal and ends
    }
    peers_.emplace(std::move(login->name), Peer{std::move(login->outbox), {}, 0, false});
    login->accepted.set_value(true);
  }

  void handle(Chat& chat) {
    const std::uint64_t stamp = ++message_count_;
    for_each_recipient(chat.recipients, [&](std::string_view name) {
      const auto found = peers_.find(name);
      if (found == peers_.end()) return;
      Peer& peer = found->second;
      if (peer.last_message == stamp) return;
      peer.last_message = stamp;
      if (!peer.touched) {
        peer.touched = true;
        touched_.push_back(&peer);
      }
      peer.pending.push_back(chat.delivery);
    });
  }

  void handle(Gone& gone) {
    const auto found = peers_.find(gone.name);
    if (found == peers_.end()) return;
    Peer& peer = found->second;
    if (peer.touched) {
      flush(peer);
      std::erase(touched_, &peer);
    }
    peers_.erase(found);  // closes its outbox: its writer writes what it has and ends
  }

  void flush(Peer& peer) {
    peer.outbox.send_bulk(peer.pending);
    peer.pending.clear();
    peer.touched = false;
  }

  Receiver<Event> inbox_;
  std::unordered_map<std::string, Peer, NameHash, std::equal_to<>> peers_;
  std::vector<Peer*> touched_;
  std::uint64_t message_count_ = 0;
};

// One connection's reader, run on its own thread: the login, then every line to the broker.
// Shares the socket with the connection's writer; the last of the two closes it.
struct Reader {
  std::shared_ptr<const Socket> socket;
  Sender<Event> inbox;  // one lane of the broker's inbox, for life
  OutboxSender outbox;  // handed to the broker with the login

  void operator()() {
    schedule_as_batch_thread();
    LineReader lines(*socket, kTuning.max_line_bytes, kTuning.read_chunk_bytes);
    std::string_view line;
    if (lines.next(line) != LineReader::Status::line) return;
    std::string name(trim(line));
    if (name.empty()) return;
    auto login = std::make_unique<Login>(Login{name, std::move(outbox), {}});
    auto accepted = login->accepted.get_future();
    inbox.send(std::move(login));
    if (!accepted.get()) return;

    std::vector<Event> batch;
    batch.reserve(kReaderBatch);
    std::string error;
    while (true) {
      if (!lines.has_buffered_line() && !batch.empty()) {
        inbox.send_bulk(batch);
        batch.clear();
      }
      if (lines.next(line) != LineReader::Status::line) break;
      const auto parsed = parse_chat_line(line, std::numeric_limits<std::size_t>::max(), error);
      if (!parsed) continue;
      batch.emplace_back(Chat{std::string(parsed->recipients),
                              std::make_shared<const std::string>(format_delivery(name, parsed->text))});
      if (batch.size() == kReaderBatch) {
        inbox.send_bulk(batch);
        batch.clear();
      }
    }
    batch.emplace_back(Gone{std::move(name)});
    inbox.send_bulk(batch);
  }
};

// One connection's writer, run on its own thread: writes what the broker routes to it until
// its outbox closes, then shuts the socket's write side. A failed write shuts the socket down,
// which ends the reader, whose end closes the outbox.
struct Writer {
  std::shared_ptr<const Socket> socket;
  OutboxReceiver outbox;

  void operator()() {
    schedule_as_batch_thread();
    OutboxBatch received;
    std::array<OutboundLine, kWriteBatch> batch;
    std::array<iovec, kWriteBatch> chunks;
    bool healthy = true;
    while (outbox.receive(received)) {
      while (const std::size_t n = received.take(batch)) {
        for (std::size_t i = 0; i < n; ++i) {
          chunks[i] = iovec{const_cast<char*>(batch[i]->data()), batch[i]->size()};
        }
        if (healthy && !socket->send_all(std::span<iovec>(chunks.data(), n))) {
          healthy = false;
          socket->shutdown_both();
        }
        for (std::size_t i = 0; i < n; ++i) batch[i].reset();
      }
    }
    if (healthy) socket->shutdown_write();
  }
};

int serve(const Endpoint& endpoint) {
  size_futex_hash(kSleepers);
  auto [inbox, inbox_receiver] =
      make_channel<Event>(inbox_options(std::chrono::microseconds(kTuning.broker_spin_us)));
  boost::thread broker_thread([broker = Broker(std::move(inbox_receiver))]() mutable {
    name_this_thread("broker");
    broker.run();
  });
  const Socket listener = Socket::listen_on(endpoint, kListenBacklog);
  listener.set_no_delay();  // accepted sockets inherit it, as a-chat's do
  std::printf("listening on %s\n",
              listener.local_name().value_or(endpoint.to_string()).c_str());
  std::fflush(stdout);
  Crew crew(kTuning.thread_stack_bytes, kTuning.thread_cache);
  while (true) {
    Socket accepted(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!accepted) continue;  // EINTR, ECONNABORTED, out of fds: try the next one
    auto socket = std::make_shared<const Socket>(std::move(accepted));
    auto [outbox, outbox_receiver] = make_outbox();
    try {
      crew.spawn("writer", Writer{socket, std::move(outbox_receiver)});
      crew.spawn("reader", Reader{socket, inbox, std::move(outbox)});
    } catch (const boost::thread_resource_error&) {
      // No thread: the connection closes (a writer already started ends with its outbox).
    }
  }
}

}  // namespace
}  // namespace achat::floor

int main(int argc, char** argv) {
  const auto endpoint = argc == 2 ? achat::Endpoint::parse(argv[1]) : std::nullopt;
  if (!endpoint) {
    std::fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
    return 2;
  }
  try {
    return achat::floor::serve(*endpoint);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "a-chat-floor: %s\n", error.what());
    return 1;
  }
}
