// spdlog's default logger in a-chat-server: hands each line to the async queue, counts drops.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <spdlog/async_logger.h>
#include <spdlog/logger.h>

#include "achat/stats.h"

namespace achat {

// Any thread logs through it. Each line goes to `queue` (an async logger that drops the oldest
// line when its pool's queue is full); right after, the thread adds the queue's new drops, once
// each, to the attached Stats counter if there is one. spdlog's async_logger is final, hence
// forwarding rather than overriding. count_into() is called by main (Log::DropCounting).
class DropCountingLogger final : public spdlog::logger {
 public:
  DropCountingLogger(std::shared_ptr<spdlog::async_logger> queue,
                     std::weak_ptr<spdlog::details::thread_pool> pool);

  // Lines the queue dropped so far.
  std::uint64_t dropped() const;
  // From now on add drops to `counter` (nullptr: to nothing); drops so far are added at once.
  void count_into(Stats::Counter* counter);

 private:
  void sink_it_(const spdlog::details::log_msg& message) override;
  void flush_() override;
  void count_new_drops();

  const std::shared_ptr<spdlog::async_logger> queue_;
  const std::weak_ptr<spdlog::details::thread_pool> pool_;
  std::atomic<Stats::Counter*> counter_{nullptr};
  std::atomic<std::uint64_t> counted_{0};  // drops already added to *counter_
};

}  // namespace achat
