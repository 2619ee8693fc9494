#include "achat/protocol.h"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace achat {
namespace {

std::vector<std::string> names_in(std::string_view field) {
  std::vector<std::string> names;
  for_each_recipient(field, [&](std::string_view name) { names.emplace_back(name); });
  return names;
}

TEST(Protocol, SplitsAtFirstColonAndTrims) {
  std::string error;
  const auto line = parse_chat_line("  alice ,bob :  hello: world  ", 10, error);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "hello: world");
  EXPECT_EQ(names_in(line->recipients), (std::vector<std::string>{"alice", "bob"}));
}

TEST(Protocol, SkipsEmptyNames) {
  EXPECT_EQ(names_in("a,, b ,"), (std::vector<std::string>{"a", "b"}));
}

TEST(Protocol, RefusesLineWithoutColon) {
  std::string error;
  EXPECT_FALSE(parse_chat_line("alice hello", 10, error));
  EXPECT_EQ(error, "expected \"name, name: text\", line dropped: \"alice hello\"");
}

TEST(Protocol, RefusesLineWithoutRecipients) {
  std::string error;
  EXPECT_FALSE(parse_chat_line(" , : hello", 10, error));
  EXPECT_EQ(error, "no recipients, line dropped: \" , : hello\"");
}

TEST(Protocol, RefusesTooManyRecipients) {
  std::string error;
  EXPECT_TRUE(parse_chat_line("a,b,c: hi", 3, error));
  EXPECT_FALSE(parse_chat_line("a,b,c,d: hi", 3, error));
  EXPECT_EQ(error, "too many recipients (limit 3), line dropped: \"a,b,c,d: hi\"");
}

TEST(Protocol, KeepsEmptyText) {
  std::string error;
  const auto line = parse_chat_line("bob:", 10, error);
  ASSERT_TRUE(line);
  EXPECT_EQ(line->text, "");
}

TEST(Protocol, ValidatesUtf8) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(is_valid_utf8("\xC3"));                // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));            // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));        // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));    // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\x80"));
  std::string error;
  EXPECT_FALSE(parse_chat_line("bob: \xFF", 10, error));
  EXPECT_EQ(error, "invalid UTF-8, line dropped: \"bob: \\xff\"");
}

TEST(Protocol, ExcerptsAreShortAndCannotBreakATerminal) {
  EXPECT_EQ(quote_excerpt("hi \"you\" \\ there"), R"("hi \"you\" \\ there")");
  EXPECT_EQ(quote_excerpt("bell\a esc\x1b del\x7f"), R"("bell\x07 esc\x1b del\x7f")");
  EXPECT_EQ(quote_excerpt(std::string(40, 'x')), "\"" + std::string(32, 'x') + "\"...");
  // A character that would straddle the 32-byte cut is left out whole, never split.
  EXPECT_EQ(quote_excerpt(std::string(31, 'x') + "\xC3\xA9"), "\"" + std::string(31, 'x') + "\"...");
  EXPECT_EQ(quote_excerpt("caf\xC3\xA9 \xFF"), "\"caf\xC3\xA9 \\xff\"");
}

TEST(Protocol, LoginRules) {
  EXPECT_EQ(login_problem("alice", 32), std::nullopt);
  EXPECT_EQ(login_problem("\xC3\xA9lodie", 32), std::nullopt);
  EXPECT_EQ(login_problem("", 32), "login is empty");
  EXPECT_EQ(login_problem("a,b", 32), "login may not contain ',' or ':'");
  EXPECT_EQ(login_problem("a:b", 32), "login may not contain ',' or ':'");
  EXPECT_EQ(login_problem("a\tb", 32), "login may not contain control characters");
  EXPECT_EQ(login_problem("a\x7F", 32), "login may not contain control characters");
  EXPECT_EQ(login_problem("\xFF", 32), "login is not valid UTF-8");
  EXPECT_EQ(login_problem(std::string(33, 'x'), 32), "login longer than 32 bytes");
  EXPECT_EQ(login_problem(std::string(32, 'x'), 32), std::nullopt);
}

TEST(Protocol, Formats) {
  EXPECT_EQ(format_delivery("alice", "hi there"), "from alice: hi there\n");
  EXPECT_EQ(format_error("server full"), "error: server full\n");
}

}  // namespace
}  // namespace achat
