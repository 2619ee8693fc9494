#include "achat/reader.h"

#include <cstring>
#include <spdlog/spdlog.h>
#include <vector>

#include "achat/inbox_stream.h"
#include "achat/line_reader.h"
#include "achat/protocol.h"

namespace achat {

namespace {

constexpr std::size_t kReaderBatch = 64;

// Why a reader stopped, for the log: EOF, reset, line too long, server shutdown, ...
std::string why_reading_ended(LineReader::Status status, int error, bool server_stopping) {
  if (server_stopping) return "server shutdown";
  switch (status) {
    case LineReader::Status::line: return "line";
    case LineReader::Status::end_of_stream: return "EOF";
    case LineReader::Status::truncated: return "EOF mid-line";
    case LineReader::Status::too_long: return "line too long";
    case LineReader::Status::timed_out: return "login timeout";
    case LineReader::Status::failed: return error == ECONNRESET ? "reset" : std::strerror(error);
  }
  return "unknown";
}

}  // namespace

void ReaderTask::operator()() {
  Connection& self = *connection;
  auto reply_error = [&](std::string_view what) {
    Stats::add(stats.protocol_errors);
    enqueue_line(outbox, self, std::make_shared<const std::string>(format_error(what)));
  };
  auto line_too_long = [&] {
    reply_error("line longer than " + std::to_string(limits.max_line_bytes) +
                " bytes, disconnecting");
  };

  LineReader lines(self.socket(), limits.max_line_bytes, limits.read_chunk_bytes);
  std::string_view line;
  self.socket().set_receive_timeout_ms(limits.login_timeout_ms);
  const auto login_status = lines.next(line);
  if (login_status != LineReader::Status::line) {
    if (login_status == LineReader::Status::too_long) line_too_long();
    if (login_status == LineReader::Status::timed_out) reply_error("login timeout, disconnecting");
    spdlog::info("{}: disconnected before login: {}", self.address(),
                 why_reading_ended(login_status, lines.error(), server_stopping.load(std::memory_order_acquire)));
    return;
  }
  self.socket().set_receive_timeout_ms(0);

  std::string name(trim(line));
  if (auto problem = login_problem(name, limits.max_login_bytes)) {
    Stats::add(stats.logins_refused);
    reply_error("invalid login: " + *problem + ", disconnecting");
    spdlog::info("{}: login refused: {}", self.address(), *problem);
    return;
  }
  auto refuse_login = [&](const std::string& error_line) {
    Stats::add(stats.logins_refused);
    reply_error(error_line);
    spdlog::info("{}: login refused: {}", self.address(), error_line);
  };
  std::unique_ptr<LoginLease> lease;
  if (cluster) {
    std::string refusal;
    lease = cluster->claim(name, refusal);
    if (!lease) return refuse_login(refusal);
  }
  std::promise<LoginVerdict> promise;
  auto verdict_ready = promise.get_future();
  inbox.send(std::make_unique<LoginRequest>(
      LoginRequest{connection, name, outbox, std::move(promise), std::move(lease)}));
  if (auto refusal = verdict_ready.get()) return refuse_login(*refusal + ", disconnecting");
  Stats::add(stats.logins);
  self.set_login(name);

  InboxStream stream(std::move(inbox), self.id(), server_stopping);
  // Messages from one recv() go to the broker together: one wake-up, not one per line.
  std::vector<BrokerEvent> batch;
  batch.reserve(kReaderBatch);
  auto hand_over = [&] {
    if (batch.empty()) return;
    Stats::add(stats.messages_accepted, batch.size());
    stream.send_bulk(batch);
    batch.clear();
  };
  std::string error;
  while (true) {
    if (!lines.has_buffered_line()) hand_over();
    const auto status = lines.next(line);
    if (status != LineReader::Status::line) {
      hand_over();
      if (status == LineReader::Status::too_long) line_too_long();
      spdlog::info("{} ({}): disconnected: {}", name, self.address(),
                   why_reading_ended(status, lines.error(), server_stopping.load(std::memory_order_acquire)));
      return;
    }
    const auto parsed = parse_chat_line(line, limits.max_recipients, error);
    if (!parsed) {
      hand_over();  // keeps this error line after the replies to earlier lines
      reply_error(error);
      continue;
    }
    batch.emplace_back(ChatMessage{self.id(), std::string(parsed->recipients),
                                   std::make_shared<const std::string>(format_delivery(name, parsed->text))});
    if (batch.size() == kReaderBatch) hand_over();
  }
}

}  // namespace achat
