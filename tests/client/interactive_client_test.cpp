// The real a-chat-client binary in interactive mode, on a terminal provided by a private tmux
// server, against a fake server owned by the test. The screen is read with capture-pane.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"

namespace achat::client::testing {
namespace {

using Screen = std::vector<std::string>;

// The last non-empty row: where the prompt is while the client is editing.
std::string last_row(const Screen& screen) {
  for (auto row = screen.rbegin(); row != screen.rend(); ++row) {
    if (!row->empty()) return *row;
  }
  return "";
}

bool has_row(const Screen& screen, const std::string& text) {
  return std::find(screen.begin(), screen.end(), text) != screen.end();
}

// Owns one fake server and, once start() ran, the tmux session showing the client; both are
// torn down (tmux server killed, sockets closed) when the test ends. Test thread only.
class InteractiveClient : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TmuxSession::available()) {
      GTEST_SKIP() << "tmux is not on PATH: the interactive client tests need it to provide a "
                      "terminal (Debian: apt-get install tmux)";
    }
  }

  // Starts the client in a tmux pane of the given size and accepts its connection.
  void start(std::vector<std::string> arguments, int width = 120, int height = 20) {
    arguments.insert(arguments.begin(), {client_path(), server_.address()});
    tmux_ = std::make_unique<TmuxSession>(arguments, width, height);
    ASSERT_TRUE(tmux_->started()) << "tmux could not start a session";
    ASSERT_TRUE(server_.accept_client()) << tmux_->dump();
  }

  void wait_for_prompt_line(const std::string& text) {
    ASSERT_TRUE(tmux_->wait_for_screen([&](const Screen& s) { return last_row(s) == text; }))
        << "expected the prompt line '" << text << "'\n" << tmux_->dump();
  }

  void expect_received(const std::string& expected) {
    EXPECT_EQ(server_.receive(expected.size()), expected) << tmux_->dump();
  }

  FakeServer server_;
  std::unique_ptr<TmuxSession> tmux_;
};

TEST_F(InteractiveClient, IncomingLineDoesNotGarbleTheLineBeingTyped) {
  ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}));
  expect_received("alice\n");
  wait_for_prompt_line("alice>");

  tmux_->type("bob: hello wor");
  wait_for_prompt_line("alice> bob: hello wor");

  ASSERT_TRUE(server_.send("from bob: hi\n"));
  ASSERT_TRUE(tmux_->wait_for_screen([](const Screen& s) { return has_row(s, "from bob: hi"); }))
      << tmux_->dump();
  const Screen screen = tmux_->screen();
  const auto incoming = std::find(screen.begin(), screen.end(), "from bob: hi");
  ASSERT_NE(incoming + 1, screen.end()) << tmux_->dump();
  EXPECT_EQ(*(incoming + 1), "alice> bob: hello wor") << tmux_->dump();
  EXPECT_EQ(last_row(screen), "alice> bob: hello wor") << tmux_->dump();
  EXPECT_EQ(std::count(screen.begin(), screen.end(), "alice> bob: hello wor"), 1)
      << "no leftover copy of the input area\n" << tmux_->dump();
  EXPECT_EQ(std::count(screen.begin(), screen.end(), "from bob: hi"), 1) << tmux_->dump();
  const auto cursor = tmux_->cursor();
  EXPECT_EQ(cursor.x, static_cast<int>(std::string("alice> bob: hello wor").size()));
  EXPECT_EQ(cursor.y, static_cast<int>(incoming - screen.begin()) + 1);

  tmux_->type("ld");
  tmux_->press("Enter");
  expect_received("alice\nbob: hello world\n");
  wait_for_prompt_line("alice>");
}

TEST_F(InteractiveClient, CursorInsideAWrappedLineSurvivesIncomingLines) {
  ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}, 40, 12));
  expect_received("alice\n");
  wait_for_prompt_line("alice>");

  // 7 + 48 characters: the input wraps onto a second row of the 40-column pane.
  const std::string typed = "bob: 0123456789 0123456789 0123456789 0123456789";
  tmux_->type(typed.substr(0, typed.size() - 3) + "XYZ" + typed.substr(typed.size() - 3));
  for (int i = 0; i < 6; ++i) tmux_->press("Left");  // cursor before "XYZ"
  ASSERT_TRUE(tmux_->wait_for_screen(
      [](const Screen& s) { return last_row(s) == "6789 0123456XYZ789"; }))
      << tmux_->dump();

  ASSERT_TRUE(server_.send("from bob: one\nfrom carol: two\n"));
  ASSERT_TRUE(
      tmux_->wait_for_screen([](const Screen& s) { return has_row(s, "from carol: two"); }))
      << tmux_->dump();
  const Screen screen = tmux_->screen();
  const auto first = std::find(screen.begin(), screen.end(), "from bob: one");
  ASSERT_TRUE(first != screen.end() && screen.end() - first >= 4) << tmux_->dump();
  EXPECT_EQ(*(first + 1), "from carol: two") << tmux_->dump();
  EXPECT_EQ(*(first + 2), "alice> bob: 0123456789 0123456789 012345") << tmux_->dump();
  EXPECT_EQ(*(first + 3), "6789 0123456XYZ789") << tmux_->dump();
  EXPECT_EQ(tmux_->cursor().x, 12) << tmux_->dump();  // still right before "XYZ"
  EXPECT_EQ(tmux_->cursor().y, static_cast<int>(first - screen.begin()) + 3) << tmux_->dump();
  EXPECT_EQ(first, screen.begin()) << "no leftover copy of the input area\n" << tmux_->dump();

  tmux_->press("Delete");
  tmux_->press("Delete");
  tmux_->press("Delete");
  tmux_->press("Enter");
  expect_received("alice\n" + typed + "\n");
  wait_for_prompt_line("alice>");

  // A line arriving before the next key is pressed: the fresh, empty prompt is one row high,
  // and the two rows of the sent line above it must stay as they are.
  ASSERT_TRUE(server_.send("from bob: three\n"));
  ASSERT_TRUE(
      tmux_->wait_for_screen([](const Screen& s) { return has_row(s, "from bob: three"); }))
      << tmux_->dump();
  const Screen after = tmux_->screen();
  const auto sent = std::find(after.begin(), after.end(), "6789 0123456789");
  ASSERT_TRUE(sent != after.end() && after.end() - sent >= 3) << tmux_->dump();
  EXPECT_EQ(*(sent - 1), "alice> bob: 0123456789 0123456789 012345") << tmux_->dump();
  EXPECT_EQ(*(sent + 1), "from bob: three") << tmux_->dump();
  EXPECT_EQ(*(sent + 2), "alice>") << tmux_->dump();
}

TEST_F(InteractiveClient, AsksForTheLoginWhenNoneIsGiven) {
  ASSERT_NO_FATAL_FAILURE(start({}));
  wait_for_prompt_line("login:");
  tmux_->type("alice");
  tmux_->press("Enter");
  expect_received("alice\n");
  wait_for_prompt_line("alice>");
  tmux_->type("bob: hi");
  tmux_->press("Enter");
  expect_received("alice\nbob: hi\n");
}

TEST_F(InteractiveClient, QuitHalfClosesPrintsTheRestAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}));
  expect_received("alice\n");
  wait_for_prompt_line("alice>");
  tmux_->type("/quit");
  tmux_->press("Enter");
  ASSERT_TRUE(server_.wait_for_eof()) << tmux_->dump();
  EXPECT_EQ(server_.received(), "alice\n");  // /quit itself is not sent
  ASSERT_TRUE(server_.send("from bob: see you\n"));
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 0);
  EXPECT_TRUE(has_row(tmux_->transcript(), "from bob: see you")) << tmux_->dump();
}

TEST_F(InteractiveClient, CtrlDHalfClosesAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}));
  expect_received("alice\n");
  wait_for_prompt_line("alice>");
  tmux_->press("C-d");
  ASSERT_TRUE(server_.wait_for_eof()) << tmux_->dump();
  EXPECT_EQ(server_.received(), "alice\n");
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 0);
}

TEST_F(InteractiveClient, ServerResetShowsConnectionLostAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}));
  expect_received("alice\n");
  wait_for_prompt_line("alice>");
  tmux_->type("half a line");
  wait_for_prompt_line("alice> half a line");
  server_.reset();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  EXPECT_TRUE(has_row(tmux_->transcript(), "connection lost")) << tmux_->dump();
}

TEST_F(InteractiveClient, ServerClosingShowsWhyAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}));
  expect_received("alice\n");
  ASSERT_TRUE(server_.send("error: login \"alice\" is already online\n"));
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 0);
  const Screen screen = tmux_->transcript();
  EXPECT_TRUE(has_row(screen, "error: login \"alice\" is already online")) << tmux_->dump();
  EXPECT_TRUE(has_row(screen, "connection closed by server")) << tmux_->dump();
}

}  // namespace
}  // namespace achat::client::testing
