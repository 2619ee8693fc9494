// A browser's connection: HTTP (the page) and then, after the upgrade, WebSocket, seen by the
// server as the LineSource its reader reads and the LineSink its writer writes. Beast lives only
// in web_session.cpp.
#pragma once

#include <memory>
#include <optional>

#include "achat/limits.h"
#include "achat/connection.h"
#include "achat/fault_hooks.h"
#include "achat/stats.h"
#include "achat/web_config.h"
#include "reader.h"
#include "transport.h"

namespace achat::web {

// One per web connection, shared by its reader thread and its writer thread. Owns a private
// io_context (an epoll fd, an eventfd and a timerfd: three fds beyond the socket) that only the
// reader thread runs, and the Beast stream on the connection's socket (whose fd stays owned by
// the Connection). Every operation on the Beast stream runs on the reader thread, inside that
// io_context: the reader's reads (LineSource, including the HTTP exchange and the upgrade,
// within the login deadline) and Beast's pongs, pings and close frames. The writer thread
// (LineSink) encodes a whole batch, one text frame per line, and sends it on the socket itself
// in one go, as a TCP writer does; the socket under the stream takes turns between the two
// threads at frame boundaries, so Beast's frames go between our batches, never inside one, and
// no data frame follows a close frame.
// Promises: until the writer has finished (LineSink::finish) the reader thread keeps running
// the io_context (see serve_writes), so a write of Beast's held behind a batch and the close
// always complete; the end of reading never cancels a write; the fd is closed only by the
// Connection (Beast never closes it). Why these hold: BeastSession and BorrowedSocket in
// web_session.cpp and borrowed_socket.h.
class WebSession : public LineSource, public LineSink {
 public:
  // On `connection`'s socket, which it keeps open while it lives. `config` and `limits` must
  // outlive it, as `stats` (its socket writes are counted in web_socket_writes) and `hooks`
  // (tests only). Throws boost::system::system_error if the io_context cannot be set up (fds).
  static std::shared_ptr<WebSession> open(std::shared_ptr<Connection> connection,
                                          const WebConfig& config, const Limits& limits,
                                          Stats& stats, const FaultHooks& hooks);
  // Reader thread, after its reading has ended: runs the io_context until the writer has
  // finished, then returns.
  virtual void serve_writes() noexcept = 0;
  // The reader thread could not be started: the writer must not wait for it.
  virtual void abandon() noexcept = 0;
};

// The body of a web connection's reader thread: the common reader (ReaderTask, reading from the
// session), then serve_writes(). The ReaderTask is destroyed first, so its senders (its stream's
// end for the broker, and its handle on the writer's channel) go as soon as reading ends, as
// for a TCP reader.
struct WebReaderTask {
  std::optional<ReaderTask> reader;
  std::shared_ptr<WebSession> session;

  void operator()() {
    struct ServeWrites {
      WebReaderTask& task;
      ~ServeWrites() {
        task.reader.reset();
        task.session->serve_writes();
      }
    } serve_writes{*this};
    (*reader)();
  }
};

}  // namespace achat::web
