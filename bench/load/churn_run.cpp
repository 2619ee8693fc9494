#include "churn_run.h"

#include <cerrno>
#include <cstring>
#include <system_error>

#include "excerpt.h"
#include "payload.h"

namespace achat::load {

namespace {

constexpr std::size_t kEventsPerWait = 1024;
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr std::string_view kErrorPrefix = "error:";
constexpr std::size_t kSlotDigits = 5;

// "c00042-17": the slot's 18th connection. Unique in the run, so the server's teardown of the
// slot's previous session cannot cause "already online", and within the login rule (ASCII
// letters, digits and '-', at most 32 bytes).
std::string login_of(char initial, std::uint32_t slot, std::uint64_t cycle) {
  const std::string number = std::to_string(slot);
  std::string login(1, initial);
  if (number.size() < kSlotDigits) login.append(kSlotDigits - number.size(), '0');
  login.append(number).append(1, '-').append(std::to_string(cycle));
  return login;
}

}  // namespace

ChurnRun::ChurnRun(const Options& options)
    : options_(options),
      initial_(options.transport == Transport::kWebSocket ? 'w' : 'c'),
      slots_(options.clients),
      events_(kEventsPerWait),
      scratch_(kReadBuffer),
      server_(options.server_pid, results_) {
  to_start_.reserve(options.clients);
}

// The whole run is the timed phase: server CPU, the generator's CPU and connections per second
// all cover the first connect to the end of the last cycle.
Results ChurnRun::run() {
  server_.before_connect();
  server_.start_timed();
  start_load_cpu_ = own_cpu_ns();
  started_ = now_ns();
  last_ended_ = started_;
  stop_starting_ = started_ + seconds_to_ns(options_.duration_s);
  deadline_ = started_ + seconds_to_ns(options_.deadline_s);
  try {
    for (std::uint32_t i = 0; i < options_.clients; ++i) start_cycle(i);
    loop();
  } catch (const std::system_error& error) {  // epoll itself failed: the run cannot go on
    results_.ok = false;
    results_.error = error.what();
  }
  results_.timed_s = to_seconds(last_ended_ - started_);
  results_.load_cpu_s = to_seconds(own_cpu_ns() - start_load_cpu_);
  server_.end_timed();
  results_.cycle = percentiles_of(cycle_);
  results_.deliveries = results_.connections;
  if (results_.failures > 0) results_.ok = false;
  server_.at_end();
  return results_;
}

// A slot whose cycle ended starts its next one after the turn's events are handled, so no event
// still to be handled in the turn can belong to its new connection.
void ChurnRun::loop() {
  std::vector<std::uint32_t> starting;
  starting.reserve(options_.clients);
  while (active_ > 0 || !to_start_.empty()) {
    const std::size_t n = epoll_.wait(events_, to_start_.empty() ? deadline_ : 0);
    for (std::size_t i = 0; i < n; ++i) {
      on_event(static_cast<std::uint32_t>(events_[i].data.u64), events_[i].events);
    }
    const Nanos now = now_ns();
    starting.swap(to_start_);
    if (now < stop_starting_) {
      for (const std::uint32_t index : starting) start_cycle(index);
    }
    starting.clear();
    if (now >= deadline_) {
      fail_unfinished();
      return;
    }
  }
}

void ChurnRun::start_cycle(std::uint32_t index) {
  Slot& slot = slots_[index];
  ++active_;
  slot.login = login_of(initial_, index, slot.cycle);
  slot.started = now_ns();
  std::string payload;
  append_payload(payload, Payload{index, slot.cycle, slot.started}, options_.size);
  ++slot.cycle;
  slot.echo.assign("from ").append(slot.login).append(": ").append(payload);
  try {
    slot.connection = Connection::start_connect(
        options_.servers[index % options_.servers.size()], options_.transport);
  } catch (const std::system_error& error) {
    fail_cycle(index, std::string(error.what()) +
                          (error.code().value() == EMFILE ? " (raise ulimit -n)" : ""));
    return;
  }
  epoll_.add(slot.connection.fd(), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, index);
  slot.connecting = true;
  // The login and the line to itself, sent once the connect completes.
  slot.connection.output()
      .append(slot.login)
      .append("\n")
      .append(slot.login)
      .append(": ")
      .append(payload)
      .append("\n");
}

void ChurnRun::on_event(std::uint32_t index, std::uint32_t events) {
  Slot& slot = slots_[index];
  if (slot.connection.fd() < 0) return;  // between cycles
  if (slot.connecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    if (const int error = slot.connection.connect_error()) {
      fail_cycle(index, "connect to " + options_.server_text + ": " + std::strerror(error));
      return;
    }
    slot.connecting = false;
  }
  // Read first: a refusal the server sent before closing says more than the failed write.
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    const ReadOutcome outcome = read(index, now_ns());
    if (!outcome.problem.empty()) {
      fail_cycle(index, outcome.problem);
      return;
    }
    if (outcome.echoed) return;
  }
  if ((events & EPOLLOUT) != 0 && slot.connection.has_output() && !slot.connection.flush()) {
    fail_cycle(index, "write: " + slot.connection.error_text());
  }
}

// Reads what the socket has. The first line decides the cycle: its echo completes it (what
// follows in the same read is not looked at: the client is leaving), anything else fails it.
ChurnRun::ReadOutcome ChurnRun::read(std::uint32_t index, Nanos received) {
  Slot& slot = slots_[index];
  ReadOutcome outcome;
  const auto status = slot.connection.read_lines(scratch_, [&](std::string_view line) {
    if (outcome.echoed || !outcome.problem.empty()) return;
    if (line == slot.echo) {
      outcome.echoed = true;
    } else if (line.starts_with(kErrorPrefix)) {
      outcome.problem = "refused: " + excerpt(line);
    } else {
      outcome.problem = "expected its echo, got " + excerpt(line);
    }
  });
  if (outcome.echoed) {
    complete(index, received);
  } else if (outcome.problem.empty() && status == Connection::ReadStatus::kClosed) {
    outcome.problem = "the server closed the connection before the echo";
  } else if (outcome.problem.empty() && status == Connection::ReadStatus::kError) {
    outcome.problem = "read: " + slot.connection.error_text();
  }
  return outcome;
}

void ChurnRun::complete(std::uint32_t index, Nanos received) {
  cycle_.record(received - slots_[index].started);
  ++results_.connections;
  end_cycle(index);
}

void ChurnRun::fail_cycle(std::uint32_t index, const std::string& problem) {
  ++results_.failures;
  if (results_.error.empty()) results_.error = slots_[index].login + ": " + problem;
  end_cycle(index);
}

// Closing the socket also takes it out of the epoll set (no other descriptor refers to it).
void ChurnRun::end_cycle(std::uint32_t index) {
  Slot& slot = slots_[index];
  slot.connection = Connection();
  slot.connecting = false;
  last_ended_ = now_ns();
  --active_;
  to_start_.push_back(index);
}

// At the deadline: every cycle still waiting for its echo failed.
void ChurnRun::fail_unfinished() {
  for (std::uint32_t i = 0; i < options_.clients; ++i) {
    if (slots_[i].connection.fd() >= 0) fail_cycle(i, "no echo by the deadline");
  }
  to_start_.clear();
}

}  // namespace achat::load
