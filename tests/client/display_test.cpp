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

TEST(Display, WideAndMultibyteCharactersCountByColumnsInAUtf8Locale) {
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  EXPECT_EQ(display_width("h\xc3\xa9llo"), 5u);      // é is one column
  EXPECT_EQ(display_width("\xe4\xbd\xa0\xe5\xa5\xbd"), 4u);  // 你好: two wide characters
  EXPECT_EQ(printable("\xe4\xbd\xa0\xe5\xa5\xbd\tx"), "\xe4\xbd\xa0\xe5\xa5\xbd    x");
  std::setlocale(LC_CTYPE, "C");
}

}  // namespace
}  // namespace achat::client
