#include "ws_test_client.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <stdexcept>

namespace achat::testing {

namespace {

// The key and the accept value of RFC 6455's own example (section 1.3).
constexpr std::string_view kUpgrade =
    "GET /ws HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";
constexpr std::string_view kAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

}  // namespace

WsTestClient::WsTestClient(std::uint16_t web_port) {
  Endpoint endpoint;
  endpoint.port = web_port;
  socket_ = Socket::connect_to(endpoint);
  if (!socket_.send_all(kUpgrade)) throw std::runtime_error("WebSocket test client: send failed");
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill_to(buffer_.size() + 1, until)) throw std::runtime_error("WebSocket test client: no upgrade");
  }
  const std::string response = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  if (!response.starts_with("HTTP/1.1 101") || response.find(kAccept) == std::string::npos) {
    throw std::runtime_error("WebSocket test client: upgrade refused: " + response);
  }
}

void WsTestClient::send(std::string_view payload, int opcode) const {
  // Masked with the key 0 (RFC 6455 requires the mask bit, not a random key, of a server).
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
  }
  frame.append(4, '\0');
  frame.append(payload);
  if (!socket_.send_all(frame)) throw std::runtime_error("WebSocket test client: send failed");
}

void WsTestClient::login(std::string_view name) {
  send(name);
  send(std::string(name) + ": ready");
  EXPECT_EQ(read_text(), "from " + std::string(name) + ": ready") << "login of " << name;
}

std::optional<WsTestClient::Frame> WsTestClient::read_frame(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  if (!fill_to(2, until)) return std::nullopt;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(buffer_[i]); };
  if ((byte(0) & 0x80) == 0 || (byte(0) & 0x70) != 0 || (byte(1) & 0x80) != 0) {
    ADD_FAILURE() << "malformed frame header: " << int{byte(0)} << " " << int{byte(1)};
    return std::nullopt;
  }
  std::size_t header = 2;
  std::uint64_t length = byte(1) & 0x7F;
  if (length >= 126) {
    const std::size_t bytes = length == 126 ? 2 : 8;
    if (!fill_to(2 + bytes, until)) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < bytes; ++i) length = length << 8 | byte(2 + i);
    header += bytes;
    if (length < 126 || (bytes == 8 && length <= 0xFFFF)) {
      ADD_FAILURE() << "length " << length << " not in its shortest encoding";
      return std::nullopt;
    }
  }
  if (!fill_to(header + length, until)) return std::nullopt;
  Frame frame{byte(0) & 0x0F, buffer_.substr(header, length)};
  buffer_.erase(0, header + length);
  return frame;
}

std::optional<std::string> WsTestClient::read_text(std::chrono::milliseconds deadline) {
  while (auto frame = read_frame(deadline)) {
    if (frame->opcode == 0xA) continue;
    if (frame->opcode != 0x1) return std::nullopt;
    return std::move(frame->payload);
  }
  return std::nullopt;
}

bool WsTestClient::fill_to(std::size_t bytes, std::chrono::steady_clock::time_point until) {
  while (buffer_.size() < bytes) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{socket_.fd(), POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[64 * 1024];
    const long n = socket_.receive_some(chunk);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace achat::testing
