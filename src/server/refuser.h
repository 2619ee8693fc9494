// Turns away connections the server cannot serve, without holding up the accept thread.
#pragma once

#include <boost/thread/thread.hpp>
#include <string_view>

#include "achat/channel.h"
#include "achat/socket.h"

namespace achat {

// Owns one thread and the sockets handed to it. refuse() is called by the accept thread only.
// Each refused client gets its error line, then the same graceful close a writer ends with (FIN,
// then its input discarded until it closes, 1 s or 64 KiB at most), so it reads the error
// instead of a reset; many are lingered at once, with one poll(). Promises: at most
// kMaxLingering sockets are held at a time (past that a refused socket is closed at once), and
// the destructor returns once every held socket's linger has ended.
class Refuser {
 public:
  Refuser();
  Refuser(const Refuser&) = delete;
  Refuser& operator=(const Refuser&) = delete;
  ~Refuser();

  void refuse(Socket socket, std::string_view why);

  static constexpr std::size_t kMaxLingering = 1024;

 private:
  Sender<Socket> sockets_;
  boost::thread thread_;
};

}  // namespace achat
