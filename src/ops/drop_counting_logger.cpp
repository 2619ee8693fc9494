#include "drop_counting_logger.h"

#include <spdlog/details/thread_pool.h>

namespace achat {

DropCountingLogger::DropCountingLogger(std::shared_ptr<spdlog::async_logger> queue,
                                       std::weak_ptr<spdlog::details::thread_pool> pool)
    : spdlog::logger(queue->name()), queue_(std::move(queue)), pool_(std::move(pool)) {}

std::uint64_t DropCountingLogger::dropped() const {
  const auto pool = pool_.lock();
  return pool ? pool->overrun_counter() : counted_.load(std::memory_order_relaxed);
}

void DropCountingLogger::count_into(Stats::Counter* counter) {
  counter_.store(counter, std::memory_order_release);
  counted_.store(0, std::memory_order_relaxed);
  count_new_drops();
}

void DropCountingLogger::sink_it_(const spdlog::details::log_msg& message) {
  queue_->log(message.time, message.source, message.level, message.payload);
  count_new_drops();
}

void DropCountingLogger::flush_() { queue_->flush(); }

// Several threads may race here: whoever moves counted_ forward adds exactly that difference.
void DropCountingLogger::count_new_drops() {
  Stats::Counter* counter = counter_.load(std::memory_order_acquire);
  if (counter == nullptr) return;
  const std::uint64_t total = dropped();
  std::uint64_t counted = counted_.load(std::memory_order_relaxed);
  while (counted < total &&
         !counted_.compare_exchange_weak(counted, total, std::memory_order_relaxed)) {
  }
  if (counted < total) Stats::add(*counter, total - counted);
}

}  // namespace achat
