// libFuzzer target: the line parser and login validation must accept or refuse any bytes
// without crashing, and what they accept must satisfy the protocol's promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "achat/protocol.h"

namespace {

void check(bool promise) {
  if (!promise) std::abort();
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kMaxRecipients = 8;

  std::string error;
  if (const auto line = achat::parse_chat_line(input, kMaxRecipients, error)) {
    check(achat::is_valid_utf8(input));
    check(input.find(':') == line->recipients.size());
    check(line->text.empty() || (!is_blank(line->text.front()) && !is_blank(line->text.back())));
    std::size_t names = 0;
    achat::for_each_recipient(line->recipients, [&](std::string_view name) {
      ++names;
      check(!name.empty() && name.find(',') == std::string_view::npos);
      check(!is_blank(name.front()) && !is_blank(name.back()));
    });
    check(names >= 1 && names <= kMaxRecipients);
    const std::string delivered = achat::format_delivery("x", line->text);
    check(delivered.size() == std::string_view("from x: \n").size() + line->text.size() && delivered.back() == '\n');
  } else {
    check(!error.empty() && error.find('\n') == std::string::npos);
  }

  const std::string_view login = achat::trim(input);
  if (!achat::login_problem(login, 32)) {
    check(!login.empty() && login.size() <= 32 && achat::is_valid_utf8(login));
    check(login.find_first_of(",:\n\r") == std::string_view::npos);
  }
  return 0;
}
