// main() for tests that start the real a-chat-server: its path is the one argument.
#include <gtest/gtest.h>

#include <cstdio>

#include "server_process.h"

namespace achat::testing {

namespace {
std::string binary_path;
}  // namespace

const std::string& server_binary() { return binary_path; }

}  // namespace achat::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PATH-TO-a-chat-server [gtest options]\n", argv[0]);
    return 2;
  }
  achat::testing::binary_path = argv[1];
  return RUN_ALL_TESTS();
}
