#include "line_reader.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>
#include <thread>
#include <vector>

namespace achat {
namespace {

// A connected pair: the test writes into `client`, the LineReader reads `server`.
struct Pair {
  Socket client, server;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    client = Socket(fds[0]);
    server = Socket(fds[1]);
  }
};

std::vector<std::string> read_all(LineReader& reader, LineReader::Status& last) {
  std::vector<std::string> lines;
  std::string_view line;
  while ((last = reader.next(line)) == LineReader::Status::line) lines.emplace_back(line);
  return lines;
}

TEST(LineReader, SplitsLinesAcrossChunksAndStripsOneCarriageReturn) {
  Pair pair;
  const std::string long_line(10'000, 'a');  // spans the small first chunk and full ones
  std::thread writer([&] {
    pair.client.send_all("one\r\ntwo\n\n" + long_line + "\nlast\r\r\n");
    pair.client.shutdown_write();
  });
  LineReader reader(pair.server, 65536, 4096);
  LineReader::Status last;
  const auto lines = read_all(reader, last);
  writer.join();
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", long_line, "last\r"}));
  EXPECT_EQ(last, LineReader::Status::end_of_stream);
}

TEST(LineReader, ReportsATruncatedLastLine) {
  Pair pair;
  pair.client.send_all("whole\npartial");
  pair.client.shutdown_write();
  LineReader reader(pair.server, 100, 16);
  LineReader::Status last;
  EXPECT_EQ(read_all(reader, last), std::vector<std::string>{"whole"});
  EXPECT_EQ(last, LineReader::Status::truncated);
}

TEST(LineReader, RefusesALineOverTheLimitWithoutWaitingForItsEnd) {
  Pair pair;
  pair.client.send_all("ok\n" + std::string(101, 'x'));  // no newline, connection stays open
  LineReader reader(pair.server, 100, 16);
  LineReader::Status last;
  EXPECT_EQ(read_all(reader, last), std::vector<std::string>{"ok"});
  EXPECT_EQ(last, LineReader::Status::too_long);
}

TEST(LineReader, AcceptsALineOfExactlyTheLimit) {
  Pair pair;
  pair.client.send_all(std::string(100, 'x') + "\n" + std::string(101, 'y') + "\n");
  pair.client.shutdown_write();
  LineReader reader(pair.server, 100, 16);
  LineReader::Status last;
  EXPECT_EQ(read_all(reader, last), std::vector<std::string>{std::string(100, 'x')});
  EXPECT_EQ(last, LineReader::Status::too_long);
}

TEST(LineReader, KnowsWhetherALineIsBuffered) {
  Pair pair;
  pair.client.send_all("a\nb\npart");
  LineReader reader(pair.server, 100, 64);
  std::string_view line;
  ASSERT_EQ(reader.next(line), LineReader::Status::line);
  EXPECT_TRUE(reader.has_buffered_line());
  ASSERT_EQ(reader.next(line), LineReader::Status::line);
  EXPECT_FALSE(reader.has_buffered_line());
}

}  // namespace
}  // namespace achat
