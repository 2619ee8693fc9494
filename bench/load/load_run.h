// LoadRun: one load test, driven from one thread with edge-triggered epoll. Owns the clients,
// the event loop and the measurements. Phases:
//   1. connect + login: clients connect (at most connect_concurrency connecting or logging in
//      at once), send their login and "<self>: ready", and count as ready once the server
//      echoes "from <self>: ready" back;
//   2. ready barrier: the timed phase starts only when every client is ready; with a server
//      pid, after one idle second in which the server's CPU time is measured;
//   3. timed phase: closed loop (at most `window` messages in flight per client, in flight =
//      not yet received by ALL its recipients) or open loop (sends on a fixed schedule), each
//      message to the recipients Recipients picks;
//   4. done when sending is over and every sent message reached every recipient.
// Promises: every delivered line is checked (sender prefix, payload, and by the DeliveryLedger:
// sent, addressed to this recipient, not seen before, per-pair order), and a run passes only
// when no message is in flight, i.e. every sender->recipient pair has received exactly what was
// addressed to it. run() reports failure on the first violation, any "error:" line, a lost
// connection or the deadline, and never runs past the deadline.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client.h"
#include "clock.h"
#include "delivery_ledger.h"
#include "epoll.h"
#include "histogram.h"
#include "logins.h"
#include "options.h"
#include "recipients.h"
#include "results.h"
#include "server_probe.h"

namespace achat::load {

class LoadRun {
 public:
  explicit LoadRun(const Options& options);

  Results run();

 private:
  // Open loop: (scheduled send time, client), earliest first.
  using Due = std::pair<Nanos, std::uint32_t>;
  using Schedule = std::priority_queue<Due, std::vector<Due>, std::greater<>>;

  void loop();
  Nanos next_wakeup() const;
  bool finished() const;
  [[noreturn]] void fail_deadline() const;
  void check_nothing_in_flight() const;

  void connect_more();
  void on_event(std::uint32_t index, std::uint32_t events);
  void on_connected(std::uint32_t index);
  void on_line(std::uint32_t index, std::string_view line, Nanos received);
  void on_ready(std::uint32_t index, std::string_view line);
  void on_all_ready();
  void leave_all();
  void rejoin_all();
  void end_idle_probe();
  void on_delivery(std::uint32_t recipient, std::string_view line, Nanos received);

  void start_timed_phase();
  void end_timed_phase();
  void send_closed_loop(std::uint32_t index);
  void send_scheduled(Nanos now);
  void stop_sending_if_due(Nanos now);
  void queue_message(std::uint32_t index, Nanos stamp);
  void mark_dirty(std::uint32_t index);
  void flush_dirty();

  const Options& options_;
  Logins logins_;
  Recipients recipients_;
  DeliveryLedger ledger_;
  std::vector<Client> clients_;
  Epoll epoll_;
  std::vector<epoll_event> events_;
  std::vector<char> scratch_;         // read buffer shared by all connections
  std::vector<std::uint32_t> dirty_;  // clients with output queued this turn

  // Connect + login.
  std::uint32_t next_to_connect_ = 0;
  std::uint32_t logging_in_ = 0;  // connecting or waiting for the ready echo
  std::uint32_t connected_ = 0;
  std::uint32_t ready_ = 0;
  Nanos rejoin_at_ = 0;  // storm: when every client connects again (0 = not waiting)
  bool rejoined_ = false;

  // Idle probe (with a server pid): between the ready barrier and the timed phase.
  Nanos idle_until_ = 0;  // 0 = not probing

  // Timed phase.
  bool running_ = false;
  bool sending_over_ = false;
  std::uint32_t senders_done_ = 0;  // closed loop: clients that sent all their messages
  Schedule schedule_;               // open loop
  Nanos send_period_ = 0;           // open loop

  Nanos started_ = 0;  // first connect
  Nanos deadline_ = 0;
  Nanos timed_start_ = 0;
  Nanos send_stop_ = 0;  // 0 = no time limit on sending
  Nanos last_delivery_ = 0;
  Nanos timed_start_load_cpu_ = 0;

  LatencyHistogram latency_;
  LatencyHistogram send_lag_;
  Results results_;
  ServerProbe server_;  // writes into results_
};

}  // namespace achat::load
