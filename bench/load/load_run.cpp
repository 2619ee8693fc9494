#include "load_run.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "excerpt.h"
#include "payload.h"

namespace achat::load {

namespace {

constexpr std::size_t kEventsPerWait = 1024;
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::string_view kErrorPrefix = "error:";
constexpr std::string_view kFrom = "from ";
constexpr std::string_view kSeparator = ": ";
constexpr std::string_view kReadyText = ": ready";
// How long the server is watched doing nothing between the ready barrier and the timed phase.
constexpr Nanos kIdleProbe = kNanosPerSecond;
// storm: between every client closing its connection and all reconnecting, time for the server
// to see them go and free their logins (a login still taken fails the run: "already online").
constexpr Nanos kRejoinPause = 2 * kNanosPerSecond;

// Ends the run: caught in run() and reported as the failure.
struct RunFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& message) { throw RunFailure(message); }

// The end of "c00001 -> c00002: " for a delivery the ledger refused.
std::string rejection(DeliveryLedger::Verdict verdict, std::uint64_t seq) {
  const std::string message = "message " + std::to_string(seq);
  switch (verdict) {
    case DeliveryLedger::Verdict::kAccepted:
      break;
    case DeliveryLedger::Verdict::kNeverSent:
      return "got " + message + ", which was never sent";
    case DeliveryLedger::Verdict::kAlreadyComplete:
      return "got " + message + " after every recipient had it (duplicated or misrouted)";
    case DeliveryLedger::Verdict::kNotAddressed:
      return "got " + message + ", which was not addressed to it (misrouted)";
    case DeliveryLedger::Verdict::kDuplicate:
      return "got " + message + " twice (duplicated)";
    case DeliveryLedger::Verdict::kReordered:
      return "got " + message + " after a later one (reordered)";
  }
  return "accepted " + message;
}

}  // namespace

LoadRun::LoadRun(const Options& options)
    : options_(options),
      logins_(options.clients, options.transport == Transport::kWebSocket ? 'w' : 'c'),
      recipients_(options.clients, options.recipients, options.pattern, options.seed,
                  options.include_self),
      ledger_(options.clients, options.recipients,
              options.open_loop() ? 0 : std::max<std::uint32_t>(options.window, 1)),
      clients_(options.clients),
      events_(kEventsPerWait),
      scratch_(kReadBuffer),
      server_(options.server_pid, results_) {
  dirty_.reserve(options.clients);
  if (options.open_loop()) send_period_ = seconds_to_ns(1 / options.rate);
}

Results LoadRun::run() {
  server_.before_connect();
  started_ = now_ns();
  deadline_ = started_ + seconds_to_ns(options_.deadline_s);
  try {
    loop();
    check_nothing_in_flight();
  } catch (const RunFailure& failure) {
    results_.ok = false;
    results_.error = failure.what();
  } catch (const std::system_error& error) {
    results_.ok = false;
    results_.error = error.what();
  }
  results_.deliveries_expected = results_.messages_sent * options_.recipients;
  if (running_) end_timed_phase();
  results_.latency = percentiles_of(latency_);
  results_.send_lag = percentiles_of(send_lag_);
  server_.at_end();
  return results_;
}

// The ledger accepts each (message, recipient) it recorded at most once and nothing else, so
// once the delivery total equals sent * K every message reached every one of its recipients.
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
    if (idle_until_ != 0 && now_ns() >= idle_until_) end_idle_probe();
    if (rejoin_at_ != 0 && now_ns() >= rejoin_at_) rejoin_all();
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
  if (idle_until_ != 0) wakeup = std::min(wakeup, idle_until_);
  if (rejoin_at_ != 0) wakeup = std::min(wakeup, rejoin_at_);
  if (running_ && !sending_over_) {
    if (send_stop_ != 0) wakeup = std::min(wakeup, send_stop_);
    if (!schedule_.empty()) wakeup = std::min(wakeup, schedule_.top().first);
  }
  return wakeup;
}

void LoadRun::fail_deadline() const {
  char deadline[32];
  std::snprintf(deadline, sizeof deadline, "%g", options_.deadline_s);
  std::string missing;
  if (const auto undelivered = ledger_.first_undelivered()) {
    missing = "; first missing: " + logins_.of(undelivered->sender) + " -> " +
              logins_.of(undelivered->recipient) + " message " +
              std::to_string(undelivered->seq);
  }
  fail("deadline of " + std::string(deadline) + " s passed: " + std::to_string(ready_) + " of " +
       std::to_string(options_.clients) + " clients ready, " +
       std::to_string(results_.messages_sent) + " messages sent, " +
       std::to_string(results_.deliveries) + " of " +
       std::to_string(results_.messages_sent * options_.recipients) + " deliveries received" +
       missing);
}

// Implied by finished() (every accepted delivery ticks off one (message, recipient) that was
// addressed and not yet ticked, and the total matches); checked once more on the ledger itself,
// so a slip in that reasoning cannot pass a run that lost messages.
void LoadRun::check_nothing_in_flight() const {
  if (const auto undelivered = ledger_.first_undelivered()) {
    fail(logins_.of(undelivered->sender) + " -> " + logins_.of(undelivered->recipient) +
         ": message " + std::to_string(undelivered->seq) + " never arrived");
  }
}

// ---- connect + login ------------------------------------------------------------------------

void LoadRun::connect_more() {
  while (next_to_connect_ < options_.clients && logging_in_ < options_.connect_concurrency) {
    const std::uint32_t index = next_to_connect_++;
    Client& client = clients_[index];
    try {
      client.connection = Connection::start_connect(options_.servers[index % options_.servers.size()],
                                                       options_.transport);
    } catch (const std::system_error& error) {
      fail(logins_.of(index) + ": " + error.what() +
           (error.code().value() == EMFILE ? " (raise ulimit -n)" : ""));
    }
    epoll_.add(client.connection.fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, index);
    client.phase = Client::Phase::kConnecting;
    ++logging_in_;
  }
}

void LoadRun::on_event(std::uint32_t index, std::uint32_t events) {
  Client& client = clients_[index];
  if (client.phase == Client::Phase::kIdle) return;  // storm: closed earlier in this batch
  if (client.phase == Client::Phase::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    on_connected(index);
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    const Nanos received = now_ns();
    const auto status = client.connection.read_lines(
        scratch_, [&](std::string_view line) { on_line(index, line, received); });
    if (status == Connection::ReadStatus::kClosed) {
      fail(logins_.of(index) + ": the server closed the connection");
    }
    if (status == Connection::ReadStatus::kError) {
      fail(logins_.of(index) + ": read: " + client.connection.error_text());
    }
  }
  if ((events & EPOLLOUT) != 0 && client.connection.has_output() && !client.connection.flush()) {
    fail(logins_.of(index) + ": write: " + client.connection.error_text());
  }
}

void LoadRun::on_connected(std::uint32_t index) {
  Client& client = clients_[index];
  if (const int error = client.connection.connect_error()) {
    fail(logins_.of(index) + ": connect to " + options_.server_text + ": " +
         std::strerror(error));
  }
  client.phase = Client::Phase::kLoggingIn;
  if (++connected_ == options_.clients) results_.connect_ms = to_ms(now_ns() - started_);
  // The login, then a message to itself: its echo proves the login was processed.
  const std::string& login = logins_.of(index);
  std::string& out = client.connection.output();
  out.append(login).append("\n").append(login).append(kReadyText).append("\n");
  mark_dirty(index);
}

void LoadRun::on_line(std::uint32_t index, std::string_view line, Nanos received) {
  if (line.starts_with(kErrorPrefix)) {
    fail(logins_.of(index) + " got a server error: " + excerpt(line));
  }
  switch (clients_[index].phase) {
    case Client::Phase::kLoggingIn:
      on_ready(index, line);
      return;
    case Client::Phase::kReady:
      if (!running_) {
        fail(logins_.of(index) + ": unexpected line before the timed phase: " + excerpt(line));
      }
      on_delivery(index, line, received);
      return;
    case Client::Phase::kIdle:
    case Client::Phase::kConnecting:
      break;
  }
  fail(logins_.of(index) + ": line before the connection was up: " + excerpt(line));
}

void LoadRun::on_ready(std::uint32_t index, std::string_view line) {
  const std::string& login = logins_.of(index);
  const bool is_echo = line.starts_with(kFrom) && line.substr(kFrom.size()).starts_with(login) &&
                       line.substr(kFrom.size() + login.size()) == kReadyText;
  if (!is_echo) fail(login + ": expected its own ready echo, got " + excerpt(line));
  clients_[index].phase = Client::Phase::kReady;
  --logging_in_;
  if (++ready_ == options_.clients) {
    on_all_ready();
  } else {
    connect_more();
  }
}

void LoadRun::on_all_ready() {
  results_.login_ms = to_ms(now_ns() - started_);
  if (options_.rejoin && !rejoined_) {
    leave_all();
    return;
  }
  if (!server_.watching()) {
    start_timed_phase();
    return;
  }
  server_.start_idle();
  idle_until_ = now_ns() + kIdleProbe;
}

// storm: every client closes its connection at once; they come back after kRejoinPause.
void LoadRun::leave_all() {
  results_.first_login_ms = results_.login_ms;
  for (Client& client : clients_) {
    client.connection = Connection();
    client.phase = Client::Phase::kIdle;
    client.dirty = false;
  }
  dirty_.clear();
  next_to_connect_ = 0;
  logging_in_ = 0;
  connected_ = 0;
  ready_ = 0;
  rejoined_ = true;
  rejoin_at_ = now_ns() + kRejoinPause;
}

void LoadRun::rejoin_all() {
  rejoin_at_ = 0;
  started_ = now_ns();  // connect_ms and login_ms measure the second storm
  connect_more();
}

void LoadRun::end_idle_probe() {
  server_.end_idle();
  idle_until_ = 0;
  start_timed_phase();
}

// ---- timed phase ----------------------------------------------------------------------------

void LoadRun::start_timed_phase() {
  server_.start_timed();
  timed_start_load_cpu_ = own_cpu_ns();
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

// Server CPU is read at the last delivery's turn of the loop, before the server is stopped.
void LoadRun::end_timed_phase() {
  results_.timed_s = to_seconds(last_delivery_ - timed_start_);
  results_.load_cpu_s = to_seconds(own_cpu_ns() - timed_start_load_cpu_);
  server_.end_timed();
}

void LoadRun::send_closed_loop(std::uint32_t index) {
  if (sending_over_) return;
  const std::uint64_t limit = options_.messages;
  const auto may_send = [&] {
    return (limit == 0 || ledger_.sent(index) < limit) && ledger_.can_send(index);
  };
  if (!may_send()) return;
  const Nanos stamp = now_ns();
  while (may_send()) queue_message(index, stamp);
  if (limit != 0 && ledger_.sent(index) == limit && ++senders_done_ == options_.clients) {
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
    send_lag_.record(now - due);
    queue_message(index, due);
    const Nanos next = due + send_period_;
    const bool more = options_.messages == 0 || ledger_.sent(index) < options_.messages;
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

void LoadRun::queue_message(std::uint32_t index, Nanos stamp) {
  const std::span<const std::uint32_t> to = recipients_.next(index);
  const std::uint64_t seq = ledger_.on_send(index, to);
  std::string& out = clients_[index].connection.output();
  for (std::size_t k = 0; k < to.size(); ++k) {
    if (k > 0) out.append(", ");
    out.append(logins_.of(to[k]));
  }
  out.append(": ");
  append_payload(out, Payload{index, seq, stamp}, options_.size);
  out.push_back('\n');
  ++results_.messages_sent;
  mark_dirty(index);
}

void LoadRun::on_delivery(std::uint32_t recipient, std::string_view line, Nanos received) {
  const std::string& to = logins_.of(recipient);
  // "from <login>: <payload>", every login being the same length.
  const std::size_t text_at = kFrom.size() + logins_.length() + kSeparator.size();
  if (line.size() < text_at || !line.starts_with(kFrom) ||
      line.substr(text_at - kSeparator.size(), kSeparator.size()) != kSeparator) {
    fail(to + ": not a \"from <login>: \" line: " + excerpt(line));
  }
  const std::string_view from = line.substr(kFrom.size(), logins_.length());
  const auto payload = parse_payload(line.substr(text_at), options_.size);
  if (!payload || payload->sender >= options_.clients) {
    fail(to + ": malformed payload: " + excerpt(line));
  }
  const std::uint32_t sender = payload->sender;
  if (from != logins_.of(sender)) {
    fail(to + ": " + logins_.of(sender) + "'s message came from " + excerpt(from));
  }

  const auto verdict = ledger_.on_delivery(sender, recipient, payload->seq);
  if (verdict != DeliveryLedger::Verdict::kAccepted) {
    fail(std::string(from) + " -> " + to + ": " + rejection(verdict, payload->seq));
  }
  ++results_.deliveries;
  last_delivery_ = received;
  latency_.record(received - payload->sent_ns);

  if (!options_.open_loop()) send_closed_loop(sender);
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
      fail(logins_.of(index) + ": write: " + client.connection.error_text());
  }
  dirty_.clear();
}

}  // namespace achat::load
