// The entry point of a server thread that cannot be replaced: the broker, accept and refusal
// threads.
#pragma once

#include <cstdio>
#include <exception>
#include <spdlog/spdlog.h>
#include <string>

namespace achat {

// Runs body(); if an exception escapes it, says so on stderr (written at once, so the line is
// not lost in the log's queue) and in the log, then calls std::terminate(). For threads whose
// death would leave the server running but broken: a dead broker leaves every reader and
// writer waiting on channels nobody drains (and nobody else may own its map, or the single
// order of events is gone); a dead accept thread stops new connections while the process
// looks healthy; a dead refusal thread leaks every refused socket. Ending the process lets its
// supervisor restart it, with a reason. Each such thread catches what it can handle inside
// (README "Which threads catch what"); only what it cannot reaches this.
template <class Body>
void run_or_terminate(const char* thread, Body&& body) noexcept {
  try {
    body();
    return;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "a-chat-server: %s thread failed: %s; terminating\n", thread, error.what());
    try {
      spdlog::critical("{} thread failed: {}; terminating", thread, error.what());
    } catch (...) {
    }
  } catch (...) {
    std::fprintf(stderr, "a-chat-server: %s thread failed; terminating\n", thread);
  }
  std::terminate();
}

}  // namespace achat
