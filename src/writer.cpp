#include "achat/writer.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/uio.h>

namespace achat {

namespace {

// After the last line, how long and how much unread input the writer waits out before the
// socket closes: closing with unread input makes the kernel send a reset, which can destroy
// the final lines (an error line, say) before the client reads them.
constexpr unsigned kLingerMs = 1000;
constexpr std::size_t kLingerBytes = 64 * 1024;

// Sends FIN, then discards input until the client closes too, or the linger bounds run out.
// Only called once the reader is done, so nothing else reads the socket.
void close_gracefully(const Socket& socket) {
  socket.shutdown_write();
  socket.set_receive_timeout_ms(kLingerMs);
  std::array<char, 4096> discard;
  std::size_t total = 0;
  long n;
  while (total < kLingerBytes && (n = socket.receive_some(discard)) > 0) total += static_cast<std::size_t>(n);
}

// Lines per sendmsg(): enough to amortise the syscall, few enough to stay under IOV_MAX and
// keep the batch on a small stack.
constexpr std::size_t kWriteBatch = 64;

}  // namespace

void WriterTask::operator()() {
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
    std::int64_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      chunks[i] = iovec{const_cast<char*>(batch[i]->data()), batch[i]->size()};
      bytes += static_cast<std::int64_t>(batch[i]->size());
    }
    if (healthy && self.socket().send_all(std::span<iovec>(chunks.data(), n))) {
      Stats::add(stats.lines_written, n);
    } else {
      if (healthy) {
        spdlog::info("{}: write failed ({}), dropping the connection", self.address(),
                     std::strerror(errno));
        self.socket().shutdown_both();
        healthy = false;
      }
      undelivered += n;
    }
    self.add_queued(-bytes);
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
  }
  // The channel closed, so the reader has let go: the socket is this thread's alone.
  if (healthy) close_gracefully(self.socket());
  if (undelivered > 0) Stats::add(stats.lines_undeliverable, undelivered);
  reaper.send(WriterDone{self.id(), undelivered});
}

}  // namespace achat
