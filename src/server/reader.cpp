#include "reader.h"

#include <cstring>
#include <future>
#include <optional>
#include <spdlog/spdlog.h>
#include <vector>

#include "inbox_stream.h"
#include "line_reader.h"
#include "achat/login_name.h"
#include "achat/protocol.h"
#include "ops/thread_policy.h"

namespace achat {

namespace {

constexpr std::size_t kReaderBatch = 64;

// Why a reader stopped, for the log: EOF, reset, line too long, server shutdown, ...
std::string why_reading_ended(LineSource::Status status, const LineSource& source,
                              bool server_stopping) {
  if (server_stopping) return "server shutdown";
  switch (status) {
    case LineSource::Status::line: return "line";
    case LineSource::Status::refused: return "refused line";
    case LineSource::Status::end_of_stream: return "EOF";
    case LineSource::Status::truncated: return "EOF mid-line";
    case LineSource::Status::too_long: return "line too long";
    case LineSource::Status::timed_out: return "login timeout";
    case LineSource::Status::failed: return source.failure();
  }
  return "unknown";
}

std::string line_too_long(const Limits& limits) {
  return "line longer than " + std::to_string(limits.max_line_bytes) + " bytes, disconnecting";
}

std::string refused_line(std::string_view line) {
  return "a message may not contain CR, LF or NUL, line dropped: " + quote_excerpt(line);
}

}  // namespace

// Before the login is accepted, the reader answers through its own writer (the broker does not
// know this connection yet, and at most one reply is sent before the connection closes).
void ReaderTask::reply_before_login(std::string_view why) {
  auto reply = std::make_shared<const std::string>(format_error(why));
  const std::int64_t cost = queued_cost(*reply);
  enqueue_lines(outbox, *connection, std::span<OutboundLine>(&reply, 1), cost, cost);
}

// A login refused (invalid, taken, or the cluster unavailable): counted, answered, logged.
void ReaderTask::reject_login(const std::string& reply) {
  Stats::add(stats.logins_refused);
  reply_before_login(reply);
  spdlog::info("{}: login refused: {}", connection->address(), reply);
}

// One line per disconnect, giving the first reason recorded: a cut recorded by the broker or the
// writer wins over what this reader saw (a cut client's reader sees only the end of its stream).
std::string ReaderTask::end_reason(std::string seen) {
  return connection->end_with(seen) ? seen : connection->end_reason();
}

void ReaderTask::operator()() {
  schedule_as_batch_thread();
  if (hooks.before_login) hooks.before_login();
  Connection& self = *connection;
  auto stopping = [&] { return server_stopping.load(std::memory_order_acquire); };

  std::optional<LineReader> tcp_lines;
  if (!source) tcp_lines.emplace(self.socket(), limits.max_line_bytes, limits.read_chunk_bytes);
  LineSource& lines = source ? *source : *tcp_lines;
  std::string_view line;
  lines.set_deadline(accepted_at + std::chrono::milliseconds(limits.login_timeout_ms));
  const auto login_status = lines.next(line);
  lines.set_deadline(std::nullopt);
  if (login_status == LineSource::Status::refused) {
    return reject_login("invalid login: login may not contain control characters, disconnecting");
  }
  if (login_status != LineSource::Status::line) {
    // A login too long or too slow is a refused login (slow-loris attempts show on dashboards);
    // a client that closes before sending one has not tried.
    if (login_status == LineSource::Status::too_long) {
      Stats::add(stats.logins_refused);
      reply_before_login(line_too_long(limits));
    }
    if (login_status == LineSource::Status::timed_out) {
      Stats::add(stats.logins_refused);
      reply_before_login("login timeout, disconnecting");
    }
    spdlog::info("{}: disconnected before login: {}", self.address(),
                 end_reason(why_reading_ended(login_status, lines, stopping())));
    return;
  }

  std::string problem;
  auto login = check_login(trim(line), limits.max_login_bytes, problem);
  if (!login) return reject_login("invalid login: " + problem + ", disconnecting");
  const std::string name = login->typed;  // as typed: what `from` lines and logs show
  std::unique_ptr<LoginLease> lease;
  if (cluster) {
    std::string refusal;
    lease = cluster->claim(*login, refusal);
    if (!lease) return reject_login(refusal);
  }
  std::promise<LoginVerdict> promise;
  auto verdict_ready = promise.get_future();
  stream.send(std::make_unique<LoginRequest>(
      LoginRequest{connection, std::move(*login), outbox, std::move(promise), std::move(lease)}));
  LoginVerdict refusal;
  try {
    refusal = verdict_ready.get();
  } catch (const std::future_error&) {  // the broker dropped the request (it logged why)
    refusal = "login failed on the server, try again";
  }
  if (refusal) return reject_login(*refusal + ", disconnecting");
  Stats::add(stats.logins);
  self.set_login(name);

  // Events from one recv() go to the broker together: one wake-up, not one per line. Bad lines
  // go the same way, so their replies keep their place among the broker's.
  std::vector<BrokerEvent> batch;
  batch.reserve(kReaderBatch);
  std::int32_t batch_cost = 0;
  std::uint64_t batch_messages = 0;
  auto add = [&](auto event) {
    batch_cost += unrouted_cost(event);
    batch.emplace_back(std::move(event));
  };
  auto hand_over = [&] {
    if (batch.empty()) return;
    self.wait_to_hand_over(batch_cost, static_cast<std::int32_t>(limits.max_unrouted_bytes));
    if (stream.send_bulk(batch)) {
      Stats::add(stats.messages_accepted, batch_messages);
    } else {
      // The inbox could not allocate: these lines are lost (and logged), and their credit is
      // given back, or this reader would wait forever for a broker that never saw them.
      self.routed(batch_cost);
      spdlog::error("{} ({}): {} events lost: the broker's inbox is out of memory", name,
                    self.address(), batch.size());
    }
    batch.clear();
    batch_cost = 0;
    batch_messages = 0;
  };
  std::string error;
  LineSource::Status status;
  while (true) {
    if (!lines.has_buffered_line()) hand_over();
    status = lines.next(line);
    if (status == LineSource::Status::refused) {
      add(BadLine{self.id(), refused_line(line)});
    } else if (status != LineSource::Status::line) {
      break;
    } else if (line == kWhoLine) {
      add(WhoRequest{self.id()});
    } else if (const auto parsed = parse_chat_line(line, limits.max_recipients, error)) {
      add(ChatMessage{self.id(), std::string(parsed->recipients),
                      std::make_shared<const std::string>(format_delivery(name, parsed->text))});
      ++batch_messages;
    } else {
      add(BadLine{self.id(), std::move(error)});
    }
    if (batch.size() == kReaderBatch) hand_over();
  }
  if (status == LineSource::Status::too_long) add(BadLine{self.id(), line_too_long(limits)});
  hand_over();
  spdlog::info("{} ({}): disconnected: {}", name, self.address(),
               end_reason(why_reading_ended(status, lines, stopping())));
}

}  // namespace achat
