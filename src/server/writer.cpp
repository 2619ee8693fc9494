#include "writer.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/uio.h>

#include "achat/protocol.h"
#include "ops/thread_policy.h"

namespace achat {

namespace {

// Lines per sendmsg(): enough to amortise the syscall, few enough to stay under IOV_MAX and
// keep the batch on a small stack.
constexpr std::size_t kWriteBatch = 64;

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
  std::array<OutboundLine, kWriteBatch> batch;
  std::array<iovec, kWriteBatch> chunks;
  bool healthy = true;
  std::uint64_t undelivered = 0;
  std::uint64_t sleeps = 0;
  while (const std::size_t n = outbox.receive(batch)) {
    if (outbox.sleeps() != sleeps) {
      sleeps = outbox.sleeps();
      Stats::add(stats.writer_wakeups);
    }
    std::int64_t cost = 0;
    std::int64_t error_cost = 0;
    for (std::size_t i = 0; i < n; ++i) {
      chunks[i] = iovec{const_cast<char*>(batch[i]->data()), batch[i]->size()};
      cost += queued_cost(*batch[i]);
      if (is_error_reply(*batch[i])) error_cost += queued_cost(*batch[i]);
    }
    const bool sent = healthy && (sink ? sink->send(std::span<const OutboundLine>(batch.data(), n))
                                       : self.socket().send_all(std::span<iovec>(chunks.data(), n)));
    if (sent) {
      Stats::add(stats.lines_written, n);
    } else {
      if (healthy) {
        healthy = false;
        fail(errno);
      }
      undelivered += n;
    }
    self.add_queued(-cost, -error_cost);
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
  }
  // The channel closed, so the reader has let go: the socket is this thread's alone.
  if (sink) {
    sink->finish(healthy);
  } else if (healthy) {
    close_gracefully(self.socket());
  }
  if (undelivered > 0) Stats::add(stats.lines_undeliverable, undelivered);
  reaper.send(WriterDone{self.id(), undelivered});
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
