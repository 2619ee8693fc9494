#include "delay_proxy.h"

#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <system_error>
#include <vector>

namespace achat::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kChunkBytes = 64 * 1024;

// One direction of a link: its reader queues what `from` sends, stamped with when it is due;
// its writer hands each chunk to `to` then, and passes the end of stream on after the last.
class Lane {
 public:
  Lane(const Socket& from, const Socket& to, std::chrono::microseconds delay, DelayProxy::Gate& gate,
       DelayProxy::Gate& reading, DelayProxy::Gate* direction)
      : from_(from), to_(to), delay_(delay), gate_(gate), reading_(reading), direction_(direction) {}
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;
  ~Lane() {
    reader_.join();
    writer_.join();
  }

 private:
  struct Chunk {
    Clock::time_point due;
    std::string bytes;
  };

  void read() {
    std::vector<char> buffer(kChunkBytes);
    while (true) {
      reading_.wait_open();
      const long n = from_.receive_some(buffer);
      {
        std::lock_guard lock(mutex_);
        if (n <= 0) {
          ended_ = true;
        } else {
          chunks_.push_back({Clock::now() + delay_, std::string(buffer.data(), static_cast<std::size_t>(n))});
        }
      }
      changed_.notify_one();
      if (n <= 0) return;
    }
  }

  void write() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return ended_ || !chunks_.empty(); });
      if (chunks_.empty()) break;
      const auto due = chunks_.front().due;
      while (Clock::now() < due) changed_.wait_until(lock, due);
      const Chunk chunk = std::move(chunks_.front());
      chunks_.pop_front();
      lock.unlock();
      gate_.wait_open();
      if (direction_) direction_->wait_open();
      const bool sent = to_.send_all(chunk.bytes);
      lock.lock();
      if (!sent) {
        from_.shutdown_both();
        break;
      }
    }
    gate_.wait_open();
    if (direction_) direction_->wait_open();
    to_.shutdown_write();
  }

  const Socket& from_;
  const Socket& to_;
  const std::chrono::microseconds delay_;
  DelayProxy::Gate& gate_;
  DelayProxy::Gate& reading_;
  DelayProxy::Gate* const direction_;  // this lane's own gate, if any
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> chunks_;  // guarded by mutex_
  bool ended_ = false;        // guarded by mutex_
  std::thread reader_{[this] { read(); }};
  std::thread writer_{[this] { write(); }};
};

}  // namespace

// One proxied connection. Destroying it cuts both sides, so its lanes end, and joins them.
struct DelayProxy::Link {
  Link(Socket client_side, Socket server_side, std::chrono::microseconds delay, Gate& gate, Gate& reading,
       Gate& answers)
      : client(std::move(client_side)),
        server(std::move(server_side)),
        upstream(client, server, delay, gate, reading, nullptr),
        downstream(server, client, delay, gate, reading, &answers) {}
  ~Link() {
    client.shutdown_both();
    server.shutdown_both();
  }

  Socket client;
  Socket server;
  Lane upstream;
  Lane downstream;
};

DelayProxy::DelayProxy(std::uint16_t target, std::chrono::microseconds delay)
    : target_(target),
      delay_(delay),
      listener_(Socket::listen_on(Endpoint{"127.0.0.1", 0}, 16)),
      port_(listener_.local_port()),
      acceptor_([this] { accept_links(); }) {}

void DelayProxy::Gate::set_open(bool open) {
  {
    std::lock_guard lock(mutex_);
    open_ = open;
  }
  changed_.notify_all();
}

void DelayProxy::Gate::wait_open() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return open_; });
}

void DelayProxy::pause() { gate_.set_open(false); }
void DelayProxy::stall() {
  gate_.set_open(false);
  reading_.set_open(false);
}
void DelayProxy::pause_answers() { answers_.set_open(false); }
void DelayProxy::resume() {
  answers_.set_open(true);
  reading_.set_open(true);
  gate_.set_open(true);
}

DelayProxy::~DelayProxy() {
  resume();  // readers and writers held at the gates can end
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  listener_.shutdown_both();  // a blocked accept() fails
  acceptor_.join();
  links_.clear();
}

void DelayProxy::accept_links() {
  while (true) {
    const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0 && errno == EINTR) continue;
    if (fd < 0) return;
    Socket client(fd);
    client.set_no_delay();
    Socket server;
    try {
      server = Socket::connect_to(Endpoint{"127.0.0.1", target_});
    } catch (const std::system_error&) {
      continue;
    }
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    links_.push_back(std::make_unique<Link>(std::move(client), std::move(server), delay_, gate_, reading_, answers_));
  }
}

}  // namespace achat::testing
