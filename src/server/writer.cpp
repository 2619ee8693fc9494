#include "writer.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

#include "achat/protocol.h"
#include "freed_memory.h"
#include "ops/thread_policy.h"

namespace achat {

namespace {

// Lines per sendmsg(): enough to amortise the syscall, few enough to stay under IOV_MAX and
// keep the batch on a small stack.
constexpr std::size_t kWriteBatch = 64;

// A batch taken from the outbox that cost at least this much was a backlog: once the outbox is
// empty after it, the memory it held is handed back to the system. A writer keeping up with its
// client takes far smaller batches, so it never pays for that.
constexpr std::int64_t kLargeDrainBytes = std::int64_t{1} << 20;

}  // namespace

// Sends FIN, then discards input until the client closes too, or the linger's budget (time and
// bytes, in total) runs out. Closing with unread input makes the kernel send a reset, which can
// destroy the final lines (an error line, say) before the client reads them. Only called once the
// reader is done, so nothing else reads the socket.
void close_gracefully(const Socket& socket) {
  socket.shutdown_write();
  const auto deadline = std::chrono::steady_clock::now() + kLingerTime;
  std::array<char, 4096> discard;
  std::size_t total = 0;
  while (total < kLingerBytes) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !socket.wait_readable(static_cast<int>(left.count()))) return;
    const long n = socket.receive_some(discard);
    if (n <= 0) return;
    total += static_cast<std::size_t>(n);
  }
}

std::string stall_reason(unsigned write_stall_ms, std::int64_t queued) {
  return "not reading: no write progress for " + std::to_string(write_stall_ms) + " ms with " +
         std::to_string(queued) + " bytes queued";
}

void WriterTask::operator()() {
  schedule_as_batch_thread();
  Connection& self = *connection;
  OutboxBatch received;
  std::array<OutboundLine, kWriteBatch> batch;
  std::array<iovec, kWriteBatch> chunks;
  bool healthy = true;
  bool large_drain = false;
  std::uint64_t undelivered = 0;
  std::uint64_t sleeps = 0;
  while (outbox.receive(received)) {
    if (outbox.sleeps() != sleeps) {
      sleeps = outbox.sleeps();
      Stats::add(stats.writer_wakeups);
    }
    std::int64_t received_cost = 0;
    while (const std::size_t n = received.take(batch)) {
      std::int64_t cost = 0;
      std::int64_t error_cost = 0;
      for (std::size_t i = 0; i < n; ++i) {
        chunks[i] = iovec{const_cast<char*>(batch[i]->data()), batch[i]->size()};
        cost += queued_cost(*batch[i]);
        if (is_error_reply(*batch[i])) error_cost += queued_cost(*batch[i]);
      }
      if (healthy) healthy = write(std::span<const OutboundLine>(batch.data(), n), std::span<iovec>(chunks.data(), n));
      if (healthy) {
        Stats::add(stats.lines_written, n);
      } else {
        undelivered += n;
      }
      self.add_queued(-cost, -error_cost);
      received_cost += cost;
      for (std::size_t i = 0; i < n; ++i) batch[i].reset();
    }
    // A backlog that has drained returns what it cost, off the path of a writer keeping up.
    if (received_cost >= kLargeDrainBytes) large_drain = true;
    if (large_drain && outbox.empty()) {
      large_drain = false;
      release_freed_memory();
    }
  }
  // The outbox closed, so the reader has let go: the socket is this thread's alone.
  if (large_drain) release_freed_memory();
  if (sink) {
    sink->finish(healthy);
  } else if (healthy) {
    close_gracefully(self.socket());
  }
  if (undelivered > 0) Stats::add(stats.lines_undeliverable, undelivered);
  done.event().undelivered = undelivered;
  // `done` sends WriterDone when this task is destroyed: after this return, or after an
  // exception that escaped, or if the task never ran.
}

// Writes one batch; false once the connection has failed (then it has been shut down). An
// exception here (the test hook, or an allocation while building the reason) fails the
// connection like a failed write, so the writer keeps draining its channel and its accounting
// stays exact: that is what lets the broker free the login.
bool WriterTask::write(std::span<const OutboundLine> lines, std::span<iovec> chunks) {
  try {
    if (hooks.before_write) hooks.before_write();
    if (sink ? sink->send(lines) : connection->socket().send_all(chunks)) return true;
    fail(errno);
  } catch (...) {
    give_up(std::current_exception());
  }
  return false;
}

// The writer itself failed: the connection ends as after a failed write, with what is known.
void WriterTask::give_up(std::exception_ptr error) noexcept {
  connection->socket().shutdown_both();  // wakes the reader; the broker then closes our channel
  try {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& known) {
      what = known.what();
    } catch (...) {
    }
    spdlog::error("{}: writer failed: {}", connection->address(), what);
    connection->end_with("writer failed: " + what);
  } catch (...) {  // no memory even for the reason: the connection ends without one
  }
}

// The first failed write ends the connection: the socket is shut down (which wakes the reader)
// and everything still queued is counted as undeliverable.
void WriterTask::fail(int error) {
  Connection& self = *connection;
  const bool stalled = error == EAGAIN || error == EWOULDBLOCK;
  if (stalled) Stats::add(stats.stalled_consumers);
  std::string reason = stalled ? stall_reason(write_stall_ms, self.queued())
                               : std::string("write failed: ") + std::strerror(error);
  // The reader logs the connection's end with the first reason recorded: this one, unless the
  // connection was already cut or had already ended (then the broker's "undeliverable" line
  // tells what became of the queue).
  self.end_with(std::move(reason));
  self.socket().shutdown_both();
}

}  // namespace achat
