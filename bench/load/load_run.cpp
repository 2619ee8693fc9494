#include "load_run.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "payload.h"
#include "proc_status.h"

namespace achat::load {

namespace {

constexpr std::size_t kEventsPerWait = 1024;
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::string_view kErrorPrefix = "error:";
constexpr std::string_view kFrom = "from ";
constexpr std::string_view kReadyText = ": ready";

// Ends the run: caught in run() and reported as the failure.
struct RunFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& message) { throw RunFailure(message); }

// A received line, quoted and cut short for an error message.
std::string excerpt(std::string_view line) {
  constexpr std::size_t kMax = 160;
  std::string text;
  text.reserve(kMax + 5);
  text.append(1, '\'').append(line.substr(0, kMax)).append(1, '\'');
  if (line.size() > kMax) text.append("...");
  return text;
}

Nanos seconds_to_ns(double seconds) {
  return static_cast<Nanos>(std::llround(seconds * static_cast<double>(kNanosPerSecond)));
}

Percentiles percentiles_of(const LatencyHistogram& histogram) {
  auto us = [](Nanos ns) { return static_cast<double>(ns) / 1e3; };
  return {us(histogram.quantile(0.5)), us(histogram.quantile(0.99)), us(histogram.quantile(0.999)),
          us(histogram.max())};
}

}  // namespace

LoadRun::LoadRun(const Options& options)
    : options_(options),
      topology_(options.clients, options.recipients),
      events_(kEventsPerWait),
      scratch_(kReadBuffer) {
  clients_.reserve(options.clients);
  for (std::uint32_t i = 0; i < options.clients; ++i) {
    clients_.emplace_back(std::max<std::uint32_t>(options.window, 1), options.recipients);
  }
  dirty_.reserve(options.clients);
  if (options.open_loop()) send_period_ = seconds_to_ns(1 / options.rate);
}

Results LoadRun::run() {
  if (options_.server_pid) results_.server_before = sample_process(*options_.server_pid);
  started_ = now_ns();
  deadline_ = started_ + seconds_to_ns(options_.deadline_s);
  try {
    loop();
  } catch (const RunFailure& failure) {
    results_.ok = false;
    results_.error = failure.what();
  } catch (const std::system_error& error) {
    results_.ok = false;
    results_.error = error.what();
  }
  results_.deliveries_expected = results_.messages_sent * options_.recipients;
  if (running_) results_.timed_s = to_seconds(last_delivery_ - timed_start_);
  results_.latency = percentiles_of(latency_);
  results_.send_lag = percentiles_of(send_lag_);
  if (options_.server_pid) results_.server_end = sample_process(*options_.server_pid);
  return results_;
}

// Every delivery is checked to be the next sequence number of its sender->recipient pair and
// below the sender's count of sent messages, so once the delivery total equals sent * K every
// pair has received exactly what was sent to it: nothing lost, nothing extra.
bool LoadRun::finished() const {
  return running_ && sending_over_ &&
         results_.deliveries == results_.messages_sent * options_.recipients;
}

void LoadRun::loop() {
  connect_more();
  while (!finished()) {
    const std::size_t n = epoll_.wait(events_, next_wakeup());
    for (std::size_t i = 0; i < n; ++i) {
      on_event(static_cast<std::uint32_t>(events_[i].data.u64), events_[i].events);
    }
    if (running_ && !sending_over_) {
      const Nanos now = now_ns();
      if (options_.open_loop()) send_scheduled(now);
      stop_sending_if_due(now);
    }
    flush_dirty();
    if (!finished() && now_ns() >= deadline_) fail_deadline();
  }
}

Nanos LoadRun::next_wakeup() const {
  Nanos wakeup = deadline_;
  if (running_ && !sending_over_) {
    if (send_stop_ != 0) wakeup = std::min(wakeup, send_stop_);
    if (!schedule_.empty()) wakeup = std::min(wakeup, schedule_.top().first);
  }
  return wakeup;
}

void LoadRun::fail_deadline() const {
  char deadline[32];
  std::snprintf(deadline, sizeof deadline, "%g", options_.deadline_s);
  fail("deadline of " + std::string(deadline) + " s passed: " + std::to_string(ready_) + " of " +
       std::to_string(options_.clients) + " clients ready, " +
       std::to_string(results_.messages_sent) + " messages sent, " +
       std::to_string(results_.deliveries) + " of " +
       std::to_string(results_.messages_sent * options_.recipients) + " deliveries received");
}

// ---- connect + login ------------------------------------------------------------------------

void LoadRun::connect_more() {
  while (next_to_connect_ < options_.clients && logging_in_ < options_.connect_concurrency) {
    const std::uint32_t index = next_to_connect_++;
    Client& client = clients_[index];
    try {
      client.connection = Connection::start_connect(options_.server);
    } catch (const std::system_error& error) {
      fail(topology_.login(index) + ": " + error.what() +
           (error.code().value() == EMFILE ? " (raise ulimit -n)" : ""));
    }
    epoll_.add(client.connection.fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, index);
    client.phase = Client::Phase::kConnecting;
    ++logging_in_;
  }
}

void LoadRun::on_event(std::uint32_t index, std::uint32_t events) {
  Client& client = clients_[index];
  if (client.phase == Client::Phase::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    on_connected(index);
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    const Nanos received = now_ns();
    const auto status = client.connection.read_lines(
        scratch_, [&](std::string_view line) { on_line(index, line, received); });
    if (status == Connection::ReadStatus::kClosed) {
      fail(topology_.login(index) + ": the server closed the connection");
    }
    if (status == Connection::ReadStatus::kError) {
      fail(topology_.login(index) + ": read: " + std::strerror(errno));
    }
  }
  if ((events & EPOLLOUT) != 0 && client.connection.has_output() && !client.connection.flush()) {
    fail(topology_.login(index) + ": write: " + std::strerror(errno));
  }
}

void LoadRun::on_connected(std::uint32_t index) {
  Client& client = clients_[index];
  if (const int error = client.connection.connect_error()) {
    fail(topology_.login(index) + ": connect to " + options_.server_text + ": " +
         std::strerror(error));
  }
  client.phase = Client::Phase::kLoggingIn;
  if (++connected_ == options_.clients) results_.connect_ms = to_ms(now_ns() - started_);
  // The login, then a message to itself: its echo proves the login was processed.
  const std::string& login = topology_.login(index);
  std::string& out = client.connection.output();
  out.append(login).append("\n").append(login).append(kReadyText).append("\n");
  mark_dirty(index);
}

void LoadRun::on_line(std::uint32_t index, std::string_view line, Nanos received) {
  if (line.starts_with(kErrorPrefix)) {
    fail(topology_.login(index) + " got a server error: " + excerpt(line));
  }
  switch (clients_[index].phase) {
    case Client::Phase::kLoggingIn:
      on_ready(index, line);
      return;
    case Client::Phase::kReady:
      if (!running_) {
        fail(topology_.login(index) + ": unexpected line before the timed phase: " + excerpt(line));
      }
      on_delivery(index, line, received);
      return;
    case Client::Phase::kIdle:
    case Client::Phase::kConnecting:
      break;
  }
  fail(topology_.login(index) + ": line before the connection was up: " + excerpt(line));
}

void LoadRun::on_ready(std::uint32_t index, std::string_view line) {
  const std::string& login = topology_.login(index);
  const bool is_echo = line.starts_with(kFrom) && line.substr(kFrom.size()).starts_with(login) &&
                       line.substr(kFrom.size() + login.size()) == kReadyText;
  if (!is_echo) fail(login + ": expected its own ready echo, got " + excerpt(line));
  clients_[index].phase = Client::Phase::kReady;
  --logging_in_;
  if (++ready_ == options_.clients) {
    results_.login_ms = to_ms(now_ns() - started_);
    start_timed_phase();
  } else {
    connect_more();
  }
}

// ---- timed phase ----------------------------------------------------------------------------

void LoadRun::start_timed_phase() {
  if (options_.server_pid) results_.server_ready = sample_process(*options_.server_pid);
  running_ = true;
  timed_start_ = now_ns();
  last_delivery_ = timed_start_;
  if (options_.duration_s > 0) send_stop_ = timed_start_ + seconds_to_ns(options_.duration_s);
  if (options_.open_loop()) {
    // Spread the clients' first sends evenly over one period, so load is smooth, not bursts.
    for (std::uint32_t i = 0; i < options_.clients; ++i) {
      schedule_.emplace(timed_start_ + send_period_ * i / options_.clients, i);
    }
  } else {
    for (std::uint32_t i = 0; i < options_.clients; ++i) send_closed_loop(i);
  }
}

void LoadRun::send_closed_loop(std::uint32_t index) {
  if (sending_over_) return;
  Client& client = clients_[index];
  const std::uint64_t limit = options_.messages;
  if ((limit != 0 && client.sent >= limit) || !client.window.can_send()) return;
  const Nanos stamp = now_ns();
  while ((limit == 0 || client.sent < limit) && client.window.can_send()) {
    queue_message(index, client.window.on_send(), stamp);
  }
  if (limit != 0 && client.sent == limit && ++senders_done_ == options_.clients) {
    sending_over_ = true;
  }
}

// Open loop: the payload carries the scheduled time, not the time we got round to it, so a
// stall anywhere (server or load generator) shows up as latency instead of silently delaying
// later sends (no coordinated omission). send_lag reports how late the load generator was.
void LoadRun::send_scheduled(Nanos now) {
  while (!schedule_.empty() && schedule_.top().first <= now) {
    const auto [due, index] = schedule_.top();
    schedule_.pop();
    Client& client = clients_[index];
    send_lag_.record(now - due);
    queue_message(index, client.sent, due);
    const Nanos next = due + send_period_;
    const bool more = options_.messages == 0 || client.sent < options_.messages;
    if (more && (send_stop_ == 0 || next < send_stop_)) schedule_.emplace(next, index);
  }
  if (schedule_.empty()) sending_over_ = true;
}

void LoadRun::stop_sending_if_due(Nanos now) {
  if (send_stop_ != 0 && now >= send_stop_) {
    sending_over_ = true;
    schedule_ = Schedule();
  }
}

void LoadRun::queue_message(std::uint32_t index, std::uint64_t seq, Nanos stamp) {
  Client& client = clients_[index];
  std::string& out = client.connection.output();
  out.append(topology_.address_prefix(index));
  append_payload(out, Payload{index, seq, stamp}, options_.size);
  out.push_back('\n');
  ++client.sent;
  ++results_.messages_sent;
  mark_dirty(index);
}

void LoadRun::on_delivery(std::uint32_t recipient, std::string_view line, Nanos received) {
  const std::string& to = topology_.login(recipient);
  const std::size_t colon =
      line.starts_with(kFrom) ? line.find(": ", kFrom.size()) : std::string_view::npos;
  if (colon == std::string_view::npos)
    fail(to + ": not a \"from <login>: \" line: " + excerpt(line));
  const std::string_view from = line.substr(kFrom.size(), colon - kFrom.size());
  const auto sender = topology_.client_of(from);
  if (!sender) fail(to + ": message from an unknown sender: " + excerpt(line));
  const auto slot = topology_.sender_slot(recipient, *sender);
  if (!slot) fail(to + ": got a message from " + std::string(from) + ", which does not address it");
  const auto payload = parse_payload(line.substr(colon + 2), options_.size);
  if (!payload || payload->sender != *sender) fail(to + ": malformed payload: " + excerpt(line));

  std::uint64_t& expected = clients_[recipient].expected[*slot];
  Client& source = clients_[*sender];
  if (payload->seq != expected) {
    fail(std::string(from) + " -> " + to + ": expected message " + std::to_string(expected) +
         ", got " + std::to_string(payload->seq) +
         (payload->seq < expected ? " (duplicated or reordered)" : " (lost or reordered)"));
  }
  if (payload->seq >= source.sent) {
    fail(std::string(from) + " -> " + to + ": got message " + std::to_string(payload->seq) +
         ", which was never sent");
  }
  ++expected;
  ++results_.deliveries;
  last_delivery_ = received;
  latency_.record(received - payload->sent_ns);

  if (!options_.open_loop()) {
    if (!source.window.on_delivery(payload->seq)) {
      fail(std::string(from) + " -> " + to + ": message " + std::to_string(payload->seq) +
           " delivered more often than it has recipients");
    }
    send_closed_loop(*sender);
  }
}

// ---- output ---------------------------------------------------------------------------------

void LoadRun::mark_dirty(std::uint32_t index) {
  Client& client = clients_[index];
  if (!client.dirty) {
    client.dirty = true;
    dirty_.push_back(index);
  }
}

// One write per client per loop turn, however many messages it queued during the turn.
void LoadRun::flush_dirty() {
  for (const std::uint32_t index : dirty_) {
    Client& client = clients_[index];
    client.dirty = false;
    if (!client.connection.flush())
      fail(topology_.login(index) + ": write: " + std::strerror(errno));
  }
  dirty_.clear();
}

}  // namespace achat::load
