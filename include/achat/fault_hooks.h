// Faults a test can inject into a running server; compiled into every build, empty by default.
#pragma once

#include <functional>

namespace achat {

// Set only by tests, in ServerConfig before the server starts; read-only afterwards, by the
// threads that call them (which may be many at once: a hook must be thread-safe). An empty
// hook costs one test of a std::function per call site.
struct FaultHooks {
  // Called by every writer before each batch's sendmsg(); a hook that throws makes that
  // writer fail there, as an allocation failure would.
  std::function<void()> before_write;
  // Called by every reader when its task starts, before it reads the login: a hook that blocks
  // stands for a reader thread that starts late (a thread-start storm, a preempted thread).
  std::function<void()> before_login;
  // Called by the broker before it handles each round of events: a hook that blocks stands for
  // a broker that falls behind (preempted, or busy with a huge fanout).
  std::function<void()> before_round;
  // Called by a WebSocket client's writer once it holds the socket for its batch's frames, just
  // before sending them: a hook that blocks stands for a batch that takes long to go out.
  // `control_frame_waiting()` tells whether a frame of the stream's own (a pong, a ping, a close)
  // is being held until the batch is out.
  std::function<void(const std::function<bool()>& control_frame_waiting)> while_web_frames_go;
};

}  // namespace achat
