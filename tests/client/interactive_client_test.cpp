// The real a-chat-client binary in interactive mode, on a terminal provided by a private tmux
// server, against a fake server owned by the test. The screen is read with capture-pane.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

// True if `rows` appear one right after the other somewhere on `screen`.
bool has_rows(const Screen& screen, const std::vector<std::string>& rows) {
  return std::search(screen.begin(), screen.end(), rows.begin(), rows.end()) != screen.end();
}

// Owns one fake server, a private state directory (so the client's history never touches the
// real ~/.local/state) and, once launched, the tmux session showing the client; all are torn
// down (tmux server killed, sockets closed, directory removed) when the test ends. Test thread
// only.
class InteractiveClient : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TmuxSession::available()) {
      GTEST_SKIP() << "tmux is not on PATH: the interactive client tests need it to provide a "
                      "terminal (Debian: apt-get install tmux)";
    }
  }

  // Starts the client on `address` (default: the fake server) in a tmux pane of the given size.
  void launch(std::vector<std::string> arguments, int width = 120, int height = 20,
              std::string address = "") {
    arguments.insert(arguments.begin(), {"env", "XDG_STATE_HOME=" + state_home_, client_path(),
                                         address.empty() ? server_.address() : address});
    tmux_ = std::make_unique<TmuxSession>(arguments, width, height);
    ASSERT_TRUE(tmux_->started()) << "tmux could not start a session";
  }

  // Starts the client and accepts its connection.
  void start(std::vector<std::string> arguments, int width = 120, int height = 20) {
    ASSERT_NO_FATAL_FAILURE(launch(std::move(arguments), width, height));
    ASSERT_TRUE(server_.accept_client()) << tmux_->dump();
  }

  // Starts the client with --login alice and waits until the login arrived and the prompt shows.
  void start_as_alice(int width = 120, int height = 20) {
    ASSERT_NO_FATAL_FAILURE(start({"--login", "alice"}, width, height));
    expect_received("alice\n");
    ASSERT_NO_FATAL_FAILURE(wait_for_prompt_line("alice>"));
  }

  void wait_for_prompt_line(const std::string& text) {
    ASSERT_TRUE(tmux_->wait_for_screen([&](const Screen& s) { return last_row(s) == text; }))
        << "expected the prompt line '" << text << "'\n" << tmux_->dump();
  }

  void expect_received(const std::string& expected) {
    EXPECT_EQ(server_.receive(expected.size()), expected) << tmux_->dump();
  }

  // Sends each line as typed, then /quit; waits for the client to exit with status 0.
  void chat_and_quit(const std::vector<std::string>& lines) {
    std::string expected = "alice\n";
    for (const auto& line : lines) {
      tmux_->type(line);
      tmux_->press("Enter");
      expected += line + "\n";
      expect_received(expected);
    }
    tmux_->type("/quit");
    tmux_->press("Enter");
    ASSERT_TRUE(server_.wait_for_eof()) << tmux_->dump();
    server_.close();
    ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
    EXPECT_EQ(tmux_->exit_status(), 0) << tmux_->dump();
  }

  FakeServer server_;
  TempDir temp_;
  std::string state_home_ = temp_.path() + "/state";
  std::string history_file_ = state_home_ + "/a-chat/history";
  std::unique_ptr<TmuxSession> tmux_;
};

TEST_F(InteractiveClient, IncomingLineDoesNotGarbleTheLineBeingTyped) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());

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
  ASSERT_NO_FATAL_FAILURE(start_as_alice(40, 12));

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

TEST_F(InteractiveClient, AsksForTheLoginBeforeConnecting) {
  ASSERT_NO_FATAL_FAILURE(launch({}));
  wait_for_prompt_line("login:");
  EXPECT_FALSE(server_.has_pending_client()) << "no connection while the person types";
  tmux_->type("alice");
  tmux_->press("Enter");
  ASSERT_TRUE(server_.accept_client()) << tmux_->dump();
  expect_received("alice\n");
  wait_for_prompt_line("alice>");
  tmux_->type("bob: hi");
  tmux_->press("Enter");
  expect_received("alice\nbob: hi\n");
}

TEST_F(InteractiveClient, CtrlDAtTheLoginPromptExitsZeroWithoutConnecting) {
  ASSERT_NO_FATAL_FAILURE(launch({}));
  wait_for_prompt_line("login:");
  tmux_->press("C-d");
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 0);
  EXPECT_FALSE(server_.has_pending_client());
}

TEST_F(InteractiveClient, ATakenLoginIsAskedAgainWithTheTypedLineKept) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->type("bob: draft");
  wait_for_prompt_line("alice> bob: draft");

  const std::string refusal = "error: login \"alice\" is already online, disconnecting";
  ASSERT_TRUE(server_.send(refusal + "\n"));
  server_.close();
  wait_for_prompt_line("login:");
  EXPECT_TRUE(has_rows(tmux_->screen(), {refusal, "alice> bob: draft", "login:"}))
      << tmux_->dump();

  tmux_->type("alice2");
  tmux_->press("Enter");
  ASSERT_TRUE(server_.accept_client()) << tmux_->dump();
  expect_received("alice2\n");
  wait_for_prompt_line("alice2> bob: draft");  // the half-typed line, ready to send
  tmux_->type("!");
  tmux_->press("Enter");
  expect_received("alice2\nbob: draft!\n");
  wait_for_prompt_line("alice2>");
}

TEST_F(InteractiveClient, ClusterUnavailableSaysSoAndOffersTheSameLoginAgain) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->type("bob: draft");
  wait_for_prompt_line("alice> bob: draft");

  const std::string notice = "error: cluster unavailable, try again";
  ASSERT_TRUE(server_.send(notice + "\n"));
  server_.close();
  wait_for_prompt_line("login: alice");
  EXPECT_TRUE(has_rows(tmux_->screen(),
                       {notice, "the cluster cannot confirm logins right now: press Enter to log in again",
                        "alice> bob: draft", "login: alice"}))
      << tmux_->dump();
  EXPECT_FALSE(has_row(tmux_->screen(), "disconnected by the server")) << tmux_->dump();

  tmux_->press("Enter");  // the same login, again
  ASSERT_TRUE(server_.accept_client()) << tmux_->dump();
  expect_received("alice\n");
  wait_for_prompt_line("alice> bob: draft");
  tmux_->press("Enter");
  expect_received("alice\nbob: draft\n");
}

TEST_F(InteractiveClient, QuitHalfClosesPrintsTheRestAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
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

TEST_F(InteractiveClient, HelpIsShownLocallyAndNotSent) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->type("/help");
  tmux_->press("Enter");
  ASSERT_TRUE(tmux_->wait_for_screen([](const Screen& s) {
    return has_row(s, "/who                ask the server who is online");
  })) << tmux_->dump();
  tmux_->type("bob: hi");
  tmux_->press("Enter");
  expect_received("alice\nbob: hi\n");  // /help itself is not sent
}

TEST_F(InteractiveClient, CtrlDHalfClosesAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->press("C-d");
  ASSERT_TRUE(server_.wait_for_eof()) << tmux_->dump();
  EXPECT_EQ(server_.received(), "alice\n");
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 0);
}

TEST_F(InteractiveClient, ShutdownNoticeIsShownAboveTheTypedLineAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->type("half a line");
  wait_for_prompt_line("alice> half a line");
  ASSERT_TRUE(server_.send("error: server shutting down\n"));
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  const Screen transcript = tmux_->transcript();
  EXPECT_TRUE(has_rows(transcript, {"error: server shutting down", "disconnected by the server",
                                    "alice> half a line", "[exited with status 1]"}))
      << tmux_->dump();
  EXPECT_FALSE(has_row(transcript, "connection lost")) << tmux_->dump();
}

TEST_F(InteractiveClient, AWrappedHalfTypedLineSurvivesWholeWhateverTheCursor) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice(40, 12));
  tmux_->type("bob: 0123456789 0123456789 0123456789 0123456789");  // wraps onto a second row
  for (int i = 0; i < 30; ++i) tmux_->press("Left");  // the cursor goes back to the first row
  ASSERT_TRUE(tmux_->wait_for_screen([&](const Screen&) { return tmux_->cursor().y == 0; }))
      << tmux_->dump();
  ASSERT_TRUE(server_.send("error: server shutting down\n"));
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  EXPECT_TRUE(has_rows(tmux_->transcript(),
                       {"error: server shutting down", "disconnected by the server",
                        "alice> bob: 0123456789 0123456789 012345", "6789 0123456789",
                        "[exited with status 1]"}))
      << tmux_->dump();
}

TEST_F(InteractiveClient, ServerResetShowsConnectionLostAboveTheTypedLineAndExitsOne) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->type("half a line");
  wait_for_prompt_line("alice> half a line");
  server_.reset();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  EXPECT_TRUE(has_rows(tmux_->transcript(),
                       {"connection lost", "alice> half a line", "[exited with status 1]"}))
      << tmux_->dump();
}

// A server that dies closes its sockets in an orderly way too: without a notice it is a crash.
TEST_F(InteractiveClient, ServerClosingWithoutANoticeIsALostConnection) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  ASSERT_TRUE(server_.send("from bob: hi\n"));
  server_.close();
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  // Nothing was typed: no empty prompt is left behind.
  EXPECT_TRUE(has_rows(tmux_->transcript(),
                       {"from bob: hi", "connection lost", "[exited with status 1]"}))
      << tmux_->dump();
}

TEST_F(InteractiveClient, RefusedConnectionAfterTheLoginExitsOne) {
  Socket bound = Socket::listen_on(Endpoint{"127.0.0.1", 0}, 1);
  const std::string address = "127.0.0.1:" + std::to_string(bound.local_port());
  bound = Socket();  // nothing listens on the port now
  ASSERT_NO_FATAL_FAILURE(launch({}, 120, 20, address));
  wait_for_prompt_line("login:");
  tmux_->type("alice");
  tmux_->press("Enter");
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  EXPECT_TRUE(has_row(tmux_->transcript(),
                      "a-chat-client: cannot connect to " + address + ": Connection refused"))
      << tmux_->dump();
}

TEST_F(InteractiveClient, AHostThatDoesNotResolveIsReportedBeforeTheLoginIsAsked) {
  const std::string address = "no-such-host.invalid:8080";  // RFC 6761: never resolves
  ASSERT_NO_FATAL_FAILURE(launch({}, 120, 20, address));
  ASSERT_TRUE(tmux_->wait_for_exit()) << tmux_->dump();
  EXPECT_EQ(tmux_->exit_status(), 1);
  const auto transcript = tmux_->transcript();
  bool reported = false;
  for (const auto& row : transcript) {
    EXPECT_EQ(row.find("login:"), std::string::npos) << tmux_->dump();
    if (row.rfind("a-chat-client: cannot connect to " + address + ": ", 0) == 0) reported = true;
  }
  EXPECT_TRUE(reported) << tmux_->dump();
}

TEST_F(InteractiveClient, ATabShowsAsSpacesToTheNextTabStop) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  ASSERT_TRUE(server_.send("from bob: a\tb\x01" "c\n"));
  ASSERT_TRUE(tmux_->wait_for_screen(
      [](const Screen& s) { return has_row(s, "from bob: a     b^Ac"); }))
      << tmux_->dump();
  wait_for_prompt_line("alice>");
}

TEST_F(InteractiveClient, HistoryIsKeptBetweenSessionsInPrivateFiles) {
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  ASSERT_NO_FATAL_FAILURE(chat_and_quit({"bob: one", "bob: two"}));
  EXPECT_EQ(read_lines(history_file_), (std::vector<std::string>{"bob: one", "bob: two"}));
  EXPECT_EQ(permissions_of(state_home_), 0700);
  EXPECT_EQ(permissions_of(state_home_ + "/a-chat"), 0700);
  EXPECT_EQ(permissions_of(history_file_), 0600);

  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->press("Up");
  wait_for_prompt_line("alice> bob: two");
  tmux_->press("Up");
  wait_for_prompt_line("alice> bob: one");
}

TEST_F(InteractiveClient, HistoryKeepsTheNewestThousandLines) {
  std::filesystem::create_directories(state_home_ + "/a-chat");
  {
    std::ofstream file(history_file_);
    for (int i = 0; i < 1005; ++i) file << "bob: old " << i << "\n";
  }
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  tmux_->press("Up");
  wait_for_prompt_line("alice> bob: old 1004");
  tmux_->press("C-u");  // clear the recalled line
  wait_for_prompt_line("alice>");
  ASSERT_NO_FATAL_FAILURE(chat_and_quit({"bob: new"}));
  const auto lines = read_lines(history_file_);
  ASSERT_EQ(lines.size(), 1000u);
  EXPECT_EQ(lines.front(), "bob: old 6");
  EXPECT_EQ(lines.back(), "bob: new");
}

// The history's directory cannot exist: a warning (the first failure, reading it at start),
// no more for the lines that cannot be saved, and chatting is unaffected.
TEST_F(InteractiveClient, AnUnusableHistoryIsOneWarningAndChatGoesOn) {
  std::ofstream(temp_.path() + "/file") << "not a directory\n";
  state_home_ = temp_.path() + "/file";
  ASSERT_NO_FATAL_FAILURE(start_as_alice());
  const std::string warning =
      "warning: cannot read history " + state_home_ + "/a-chat/history: Not a directory";
  ASSERT_TRUE(tmux_->wait_for_screen([&](const Screen& s) { return has_row(s, warning); }))
      << tmux_->dump();
  ASSERT_NO_FATAL_FAILURE(chat_and_quit({"bob: one", "bob: two"}));
  const Screen transcript = tmux_->transcript();
  EXPECT_EQ(std::count_if(transcript.begin(), transcript.end(),
                          [](const std::string& row) { return row.starts_with("warning: "); }),
            1)
      << tmux_->dump();
}

}  // namespace
}  // namespace achat::client::testing
