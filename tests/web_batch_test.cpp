// A browser's writer sends everything queued in one go: several WebSocket frames per socket
// write, each frame whole and in order (issue 17, point 3).
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "achat/server.h"
#include "test_client.h"
#include "test_server.h"
#include "ws_test_client.h"

namespace achat::testing {
namespace {

// A gate writers pass (a fault hook): while held, writers wait there. A writer waiting at the
// gate may leave a probe the test can call (what the hook handed it). Any thread.
class WriterGate {
 public:
  void hold() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    opened_.notify_all();
  }
  void pass(const std::function<bool()>& probe = [] { return false; }) {
    std::unique_lock lock(mutex_);
    if (!held_) return;
    probe_ = probe;
    opened_.wait(lock, [&] { return !held_; });
    probe_ = nullptr;
  }
  bool writer_waiting() {
    std::lock_guard lock(mutex_);
    return probe_ != nullptr;
  }
  bool probe() {
    std::lock_guard lock(mutex_);
    return probe_ && probe_();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool held_ = false;
  std::function<bool()> probe_;  // while a writer waits
};

struct WebServer {
  explicit WebServer(WriterGate& gate) : server((quiet_logs(), config(gate))) { server.start(); }
  static ServerConfig config(WriterGate& gate) {
    ServerConfig result = loopback_config();
    result.web.listen = Endpoint{"127.0.0.1", 0};
    result.faults.before_write = [&gate] { gate.pass(); };
    return result;
  }
  Server server;
};

// 1,000 lines queued for a browser while its writer is held: once let go, the writer takes them
// in batches (64 lines, as for TCP) and writes each batch's frames with one socket write, not
// one write per frame. The count is exact, not timed: nothing else writes on the web port
// meanwhile, so one write per frame (1,000) fails, whatever the machine's speed.
TEST(WebBatch, QueuedLinesGoOutSeveralFramesPerSocketWriteWholeAndInOrder) {
  WriterGate gate;
  WebServer web(gate);
  Server& server = web.server;
  WsTestClient browser(server.web_port());
  browser.login("wsb");
  auto sender = TestClient::online(server.port(), "tcpb");

  constexpr int kLines = 1000;
  const std::uint64_t routed = server.stats().deliveries_routed.load();
  gate.hold();
  std::string burst;
  for (int i = 0; i < kLines; ++i) burst += "wsb: line " + std::to_string(i) + "\n";
  sender.send(burst);
  // All routed: the browser's writer holds its first batch at the gate, the rest is queued.
  ASSERT_TRUE(eventually([&] { return server.stats().deliveries_routed.load() >= routed + kLines; }));
  const std::uint64_t writes_before = server.stats().web_socket_writes.load();
  gate.release();

  for (int i = 0; i < kLines; ++i) {
    const auto text = browser.read_text();
    ASSERT_EQ(text, "from tcpb: line " + std::to_string(i));
  }
  const std::uint64_t writes = server.stats().web_socket_writes.load() - writes_before;
  EXPECT_LT(writes, std::uint64_t{kLines / 4}) << "socket writes for " << kLines << " frames";
  EXPECT_GT(writes, 0u);
  RecordProperty("socket_writes", std::to_string(writes));
}

// Beast's own frames still go whole between our batches: a ping sent while a batch is held
// gets its pong, and the lines around it arrive intact and in order.
TEST(WebBatch, APongBetweenBatchesLandsWhole) {
  WriterGate gate;
  WebServer web(gate);
  Server& server = web.server;
  WsTestClient browser(server.web_port());
  browser.login("wsp");
  auto sender = TestClient::online(server.port(), "tcpp");

  constexpr int kLines = 300;
  const std::uint64_t routed = server.stats().deliveries_routed.load();
  gate.hold();
  std::string burst;
  for (int i = 0; i < kLines; ++i) burst += "wsp: line " + std::to_string(i) + " " + std::string(200, 'p') + "\n";
  sender.send(burst);
  ASSERT_TRUE(eventually([&] { return server.stats().deliveries_routed.load() >= routed + kLines; }));
  browser.send("are you there", 0x9);
  const auto pong = browser.read_frame();  // answered by the reader while the writer is held
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "are you there");
  gate.release();
  browser.send("again", 0x9);  // its pong lands somewhere among the batches, whole
  int pongs = 0;
  for (int i = 0; i < kLines;) {
    const auto frame = browser.read_frame();
    ASSERT_TRUE(frame) << "after line " << i;
    if (frame->opcode == 0xA) {
      EXPECT_EQ(frame->payload, "again");
      ++pongs;
      continue;
    }
    ASSERT_EQ(frame->opcode, 0x1);
    ASSERT_EQ(frame->payload, "from tcpp: line " + std::to_string(i) + " " + std::string(200, 'p'));
    ++i;
  }
  if (pongs == 0) {
    const auto last = browser.read_frame();
    ASSERT_TRUE(last);
    EXPECT_EQ(last->opcode, 0xA);
  }
}

// A pong asked for while the writer's frames are going out waits for them and follows them
// whole: the writer and Beast take turns on the socket at frame boundaries, and neither starts
// while the other's frame is on its way. Without that turn-taking the pong goes out at once,
// in front of (or, with a partly written batch, inside) the writer's frames, and this fails.
TEST(WebBatch, APongAskedForWhileABatchGoesOutWaitsForItAndFollowsItWhole) {
  // The gate is where a browser's writer holds the socket for its frames; its probe tells
  // whether a frame of Beast's is being held until they are out.
  WriterGate wire;
  ServerConfig config = loopback_config();
  config.web.listen = Endpoint{"127.0.0.1", 0};
  config.faults.while_web_frames_go = [&wire](const std::function<bool()>& control_frame_waiting) {
    wire.pass(control_frame_waiting);
  };
  Server server((quiet_logs(), config));
  server.start();
  WsTestClient browser(server.web_port());
  browser.login("wsw");
  auto sender = TestClient::online(server.port(), "tcpw");

  wire.hold();
  struct ReleaseFirst {  // before the server stops, even after a failed assertion
    WriterGate& wire;
    ~ReleaseFirst() { wire.release(); }
  } release_first{wire};
  sender.send("wsw: " + std::string(300, 'w') + "\n");
  ASSERT_TRUE(eventually([&] { return wire.writer_waiting(); }));
  browser.send("ping while a batch goes out", 0x9);
  ASSERT_TRUE(eventually([&] { return wire.probe(); }))
      << "the pong did not wait for the batch on its way";
  wire.release();

  const auto line = browser.read_frame();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->opcode, 0x1);
  EXPECT_EQ(line->payload, "from tcpw: " + std::string(300, 'w'));
  const auto pong = browser.read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 0xA);
  EXPECT_EQ(pong->payload, "ping while a batch goes out");
}

}  // namespace
}  // namespace achat::testing
