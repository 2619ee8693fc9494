// Command-line options of a-chat-client and their parser.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "achat/socket.h"

namespace achat::client {

// What the command line asked for. A plain value: no owner, no threads.
struct Options {
  Endpoint server;                   // default 127.0.0.1:8080
  std::optional<std::string> login;  // --login NAME: sent as the first line
  bool help = false;                 // --help: print usage, connect nowhere
  bool version = false;              // --version: print the version, connect nowhere
};

// Either options or a one-line reason why the command line is invalid (no trailing newline).
struct ParsedOptions {
  Options options;
  std::optional<std::string> error;
};

// Parses argv[1..]: [HOST:PORT] [--login NAME | --login=NAME] [--help] [--version]. Pure.
ParsedOptions parse_options(std::span<const char* const> arguments);

// The --help text (several lines, ends with '\n').
std::string usage_text(std::string_view program);

}  // namespace achat::client
