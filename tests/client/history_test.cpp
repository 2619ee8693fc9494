// Unit tests of the interactive client's history file (src/client/history.h), on real files in
// a private temporary directory.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "history.h"
#include "test_support.h"

namespace achat::client {
namespace {

using testing::permissions_of;
using testing::read_lines;
using testing::TempDir;

History::Environment environment(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  };
}

TEST(History, PathFollowsXdgStateHomeThenHome) {
  EXPECT_EQ(History::default_path(environment({{"XDG_STATE_HOME", "/s"}, {"HOME", "/h"}})),
            "/s/a-chat/history");
  // The XDG rule: a relative XDG_STATE_HOME is ignored.
  EXPECT_EQ(History::default_path(environment({{"XDG_STATE_HOME", "s"}, {"HOME", "/h"}})),
            "/h/.local/state/a-chat/history");
  EXPECT_EQ(History::default_path(environment({{"HOME", "/h"}})), "/h/.local/state/a-chat/history");
  EXPECT_FALSE(History::default_path(environment({})));
}

TEST(History, CreatesPrivateDirectoriesAndFileOnTheFirstLine) {
  TempDir temp;
  const std::string file = temp.path() + "/state/a-chat/history";
  History history(file);
  std::vector<std::string> entries{"stale"};
  EXPECT_FALSE(history.load(entries));  // no file yet: an empty history, no warning
  EXPECT_TRUE(entries.empty());
  EXPECT_EQ(permissions_of(temp.path() + "/state"), -1) << "loading creates nothing";

  EXPECT_FALSE(history.add("bob: one"));
  EXPECT_FALSE(history.add("bob: two\tand a tab"));
  EXPECT_EQ(permissions_of(temp.path() + "/state"), 0700);
  EXPECT_EQ(permissions_of(temp.path() + "/state/a-chat"), 0700);
  EXPECT_EQ(permissions_of(file), 0600);
  EXPECT_EQ(read_lines(file), (std::vector<std::string>{"bob: one", "bob: two\tand a tab"}));

  History next_session(file);
  EXPECT_FALSE(next_session.load(entries));
  EXPECT_EQ(entries, (std::vector<std::string>{"bob: one", "bob: two\tand a tab"}));
}

TEST(History, KeepsOnlyTheNewestEntries) {
  TempDir temp;
  const std::string file = temp.path() + "/history";
  {
    std::ofstream out(file);
    for (int i = 0; i < 5; ++i) out << "old " << i << "\n";
  }
  History history(file, 3);
  std::vector<std::string> entries;
  EXPECT_FALSE(history.load(entries));
  EXPECT_EQ(entries, (std::vector<std::string>{"old 2", "old 3", "old 4"}));
  EXPECT_EQ(read_lines(file), entries) << "the file is trimmed when loaded";

  EXPECT_FALSE(history.add("new 1"));
  EXPECT_FALSE(history.add("new 2"));
  EXPECT_EQ(read_lines(file), (std::vector<std::string>{"old 4", "new 1", "new 2"}));
  EXPECT_EQ(permissions_of(file), 0600);
}

TEST(History, AFailureToWriteIsOneWarningPerSession) {
  TempDir temp;
  const std::string blocker = temp.path() + "/not-a-directory";
  std::ofstream(blocker) << "a file where a directory should be\n";
  History history(blocker + "/a-chat/history");
  const auto warning = history.add("bob: one");
  ASSERT_TRUE(warning);
  EXPECT_EQ(*warning, "cannot save history to " + blocker + "/a-chat/history: Not a directory");
  EXPECT_FALSE(history.add("bob: two")) << "said once is enough";
}

TEST(History, WithoutAPathNothingIsReadOrWritten) {
  History history(std::nullopt);
  std::vector<std::string> entries;
  EXPECT_FALSE(history.load(entries));
  EXPECT_FALSE(history.add("bob: one"));
  EXPECT_TRUE(entries.empty());
}

}  // namespace
}  // namespace achat::client
