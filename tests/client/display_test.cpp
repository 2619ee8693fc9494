// Unit tests of how incoming text is shown on the terminal (src/client/display.h).
#include <gtest/gtest.h>

#include <clocale>
#include <string>

#include "display.h"

namespace achat::client {
namespace {

TEST(Display, TabsMoveToTheNextMultipleOfEightColumns) {
  EXPECT_EQ(printable("\tx"), "        x");
  EXPECT_EQ(printable("from bob: a\tb"), "from bob: a     b");  // 11 columns, then to 16
  EXPECT_EQ(printable("1234567\t8"), "1234567 8");
  EXPECT_EQ(printable("12345678\t9"), "12345678        9");
  EXPECT_EQ(printable("a\t\tb"), "a               b");
}

TEST(Display, OtherControlCharactersStayEscapedAndCountTwoColumns) {
  EXPECT_EQ(printable("a\x01" "b\x1b[2Jc\x7f"), "a^Ab^[[2Jc^?");
  EXPECT_EQ(printable("\r\n"), "^M^J");
  EXPECT_EQ(printable("^A\x01\tx"), "^A^A    x");  // 4 columns before the tab
  EXPECT_EQ(display_width("\x01" "ab"), 4u);
}

// 0x9B is CSI and 0x9D starts an OSC for a terminal reading 8-bit bytes; U+009B and U+009D
// (0xC2 0x9B, 0xC2 0x9D) may act the same on one reading UTF-8.
TEST(Display, C1ControlCharactersAreShownAsTextInEveryEncoding) {
  EXPECT_EQ(printable("a\xc2\x9b" "2Jb"), "a<U+009B>2Jb");
  EXPECT_EQ(printable("\xc2\x9d" "0;title\x07"), "<U+009D>0;title^G");
  EXPECT_EQ(printable("\xc2\x85\tx"), "<U+0085>        x");  // 8 columns, so a full tab
  EXPECT_EQ(printable("a\x9b" "2J"), "a\\x9B2J");
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  EXPECT_EQ(printable("\xc2\x9b" "2J"), "<U+009B>2J");
  EXPECT_EQ(printable("\x9b" "2J"), "\\x9B2J");  // a stray continuation byte
  EXPECT_EQ(printable("h\xc3\xa9\xc2\xa0!"), "h\xc3\xa9\xc2\xa0!");  // é and a no-break space stay
  std::setlocale(LC_CTYPE, "C");
}

// Bidirectional formatting characters are invisible but reorder what follows: after U+202E
// (right-to-left override) "from bob: 1$" would read as "$1". Shown as text in every locale, as
// the message's bytes arrived, and counted as the columns of their ASCII form.
TEST(Display, BidiControlsAreShownAsCodePoints) {
  for (const char* locale : {"C", "C.UTF-8"}) {
    if (std::setlocale(LC_CTYPE, locale) == nullptr) continue;
    SCOPED_TRACE(locale);
    EXPECT_EQ(printable("\xe2\x80\xae" "1$"), "<U+202E>1$");                 // RLO
    EXPECT_EQ(printable("a\xe2\x80\xaa" "b\xe2\x80\xac"), "a<U+202A>b<U+202C>");  // LRE, PDF
    EXPECT_EQ(printable("\xe2\x81\xa6x\xe2\x81\xa9"), "<U+2066>x<U+2069>");  // LRI, PDI
    EXPECT_EQ(printable("\xe2\x80\x8e\xe2\x80\x8f"), "<U+200E><U+200F>");  // LRM, RLM
    EXPECT_EQ(printable("\xd8\x9c" "x"), "<U+061C>x");                         // ALM
    EXPECT_EQ(printable("\xe2\x80\xae\tx"), "<U+202E>        x");  // 8 columns, so a full tab
  }
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  // Neighbours that are not bidi controls stay as they are: an en dash, U+2065 (unassigned).
  EXPECT_EQ(printable("a\xe2\x80\x93" "b"), "a\xe2\x80\x93" "b");
  EXPECT_EQ(printable("\xe2\x80\xaf"), "\xe2\x80\xaf");  // U+202F narrow no-break space
  std::setlocale(LC_CTYPE, "C");
}

TEST(Display, WideAndMultibyteCharactersCountByColumnsInAUtf8Locale) {
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  EXPECT_EQ(display_width("h\xc3\xa9llo"), 5u);      // é is one column
  EXPECT_EQ(display_width("\xe4\xbd\xa0\xe5\xa5\xbd"), 4u);  // 你好: two wide characters
  EXPECT_EQ(printable("\xe4\xbd\xa0\xe5\xa5\xbd\tx"), "\xe4\xbd\xa0\xe5\xa5\xbd    x");
  std::setlocale(LC_CTYPE, "C");
}

}  // namespace
}  // namespace achat::client
