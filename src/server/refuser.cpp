#include "refuser.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

#include "achat/protocol.h"
#include "ops/thread_name.h"
#include "run_or_terminate.h"
#include "writer.h"

namespace achat {

namespace {

using Clock = std::chrono::steady_clock;

// While sockets linger, new refusals are picked up at least this often.
constexpr std::chrono::milliseconds kPickUpInterval{20};

struct Lingering {
  Socket socket;
  Clock::time_point deadline;
  std::size_t discarded = 0;
};

// Discards what `lingering` has to read; true once its linger is over (the client closed, or
// the byte budget is spent).
bool drain(Lingering& lingering) {
  std::array<char, 4096> discard;
  const long n = ::recv(lingering.socket.fd(), discard.data(), discard.size(), MSG_DONTWAIT);
  if (n > 0) lingering.discarded += static_cast<std::size_t>(n);
  const bool would_block = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  return !would_block && (n <= 0 || lingering.discarded >= kLingerBytes);
}

// Nothing in here allocates once the vectors are reserved (at most max_held sockets are ever
// held), so the loop cannot throw.
void linger_all(Receiver<Socket> incoming, std::size_t max_held, std::atomic<std::size_t>& held) {
  const std::size_t capacity = std::min(max_held, Refuser::kMaxLingering);
  std::vector<Lingering> lingering;
  std::vector<pollfd> ready;
  lingering.reserve(capacity);
  ready.reserve(capacity);
  std::array<Socket, 64> arrived;
  auto closed = [&](std::size_t n) { held.fetch_sub(n, std::memory_order_acq_rel); };
  while (true) {
    const std::size_t n =
        lingering.empty() ? incoming.receive(arrived) : incoming.try_receive(arrived);
    for (std::size_t i = 0; i < n; ++i) {
      if (lingering.size() < capacity) {
        lingering.push_back({std::move(arrived[i]), Clock::now() + kLingerTime});
      } else {
        closed(1);
      }
      arrived[i] = Socket();
    }
    if (lingering.empty()) {
      if (n == 0) return;  // closed and drained
      continue;
    }
    ready.clear();
    auto wait = kPickUpInterval;
    const auto now = Clock::now();
    for (const Lingering& each : lingering) {
      ready.push_back({each.socket.fd(), POLLIN, 0});
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(each.deadline - now));
    }
    ::poll(ready.data(), ready.size(), static_cast<int>(std::max(wait.count(), 0L)));
    const auto after = Clock::now();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < lingering.size(); ++i) {
      const bool over = (ready[i].revents != 0 && drain(lingering[i])) || after >= lingering[i].deadline;
      if (!over) lingering[kept++] = std::move(lingering[i]);
    }
    const std::size_t ended = lingering.size() - kept;
    lingering.resize(kept);  // closes the ended ones (resize down never allocates)
    closed(ended);
  }
}

}  // namespace

Refuser::Refuser(std::size_t max_held, std::atomic<std::uint64_t>& closed_at_once)
    : max_held_(std::min(max_held, kMaxLingering)),
      closed_at_once_(closed_at_once),
      held_(std::make_shared<std::atomic<std::size_t>>(0)) {
  auto [sockets, incoming] = make_channel<Socket>();
  sockets_ = std::move(sockets);
  boost::thread::attributes attributes;
  attributes.set_stack_size(256 * 1024);
  thread_ = boost::thread(attributes, [incoming = std::move(incoming), max_held = max_held_,
                                       held = held_]() mutable {
    name_this_thread("refuser");
    run_or_terminate("refusal", [&] { linger_all(std::move(incoming), max_held, *held); });
  });
}

Refuser::~Refuser() {
  sockets_.reset();
  if (thread_.joinable()) thread_.join();
}

void Refuser::refuse(Socket socket, std::string_view why) {
  const std::string line = format_error(why);
  // A new socket's send buffer is empty, so this never blocks in practice; MSG_DONTWAIT makes
  // sure the accept thread never waits on a client.
  ::send(socket.fd(), line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  socket.shutdown_write();
  // Only this thread adds, so the bound cannot be overshot between the load and the add.
  if (held_->load(std::memory_order_acquire) >= max_held_) {
    closed_at_once_.fetch_add(1, std::memory_order_relaxed);
    return;  // `socket` closes here: the client reads the line, then the end of the stream
  }
  held_->fetch_add(1, std::memory_order_acq_rel);
  if (!sockets_.send(std::move(socket))) held_->fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace achat
