// Turns away connections the server cannot serve, without holding up the accept thread.
#pragma once

#include <boost/thread/thread.hpp>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "achat/channel.h"
#include "achat/socket.h"

namespace achat {

// Owns one thread and the sockets handed to it. refuse() is called by the accept thread only.
// Each refused client gets its error line, then the same graceful close a writer ends with (FIN,
// then its input discarded until it closes, 1 s or 64 KiB at most), so it reads the error
// instead of a reset; many are lingered at once, with one poll(). Promises: at most `max_held`
// sockets (at most kMaxLingering) are held at a time, counting those on their way to the thread:
// past that a refused socket gets its error line and is closed at once, without the linger
// (counted in `closed_at_once`). So refusals never use more descriptors than the server set
// aside for them (see fd_reserve.h). The destructor returns once every held socket's linger
// has ended.
class Refuser {
 public:
  Refuser(std::size_t max_held, std::atomic<std::uint64_t>& closed_at_once);
  Refuser(const Refuser&) = delete;
  Refuser& operator=(const Refuser&) = delete;
  ~Refuser();

  void refuse(Socket socket, std::string_view why);

  static constexpr std::size_t kMaxLingering = 1024;

 private:
  const std::size_t max_held_;
  std::atomic<std::uint64_t>& closed_at_once_;
  // Sockets handed over and not yet closed by the thread; the accept thread adds, the refusal
  // thread subtracts.
  std::shared_ptr<std::atomic<std::size_t>> held_;
  Sender<Socket> sockets_;
  boost::thread thread_;
};

}  // namespace achat
