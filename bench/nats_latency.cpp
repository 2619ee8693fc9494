// a-chat-nats-latency: what one hop through a NATS server costs on this machine, the anchor for
// a-chat's cross-node latency (issue 16, point 10). Two connections stand in for two nodes: each
// publishes to the other's subject on an open-loop schedule (the send time is the scheduled
// time, so a publisher that falls behind counts its delay) and receives on its own through an
// asynchronous subscription, as a node's publisher and subscriber do. Prints p50/p99/p999 of
// scheduled send -> subscriber callback.
//
//   a-chat-nats-latency --url nats://127.0.0.1:4222 [--rate N] [--duration S] [--size B] [--json]
//
// --rate is publications per second in total (split over the two connections); the default,
// 10,000, is what a-chat-load's latency workload sends across two nodes (1,000 clients x 20
// lines/s, half of them to the other node, each line in its own publication at that rate).
#include <nats/nats.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "load/clock.h"
#include "load/histogram.h"

namespace {

using achat::load::LatencyHistogram;
using achat::load::Nanos;
using achat::load::now_ns;

struct Options {
  std::string url;
  long rate = 10'000;
  double duration_s = 10;
  std::size_t size = 100;  // a one-line publication: envelope header, recipient, `from ...` line
  bool json = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "a-chat-nats-latency: %s\nusage: a-chat-nats-latency --url nats://HOST:PORT "
               "[--rate N] [--duration S] [--size B] [--json]\n", why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--url") {
      options.url = value();
    } else if (arg == "--rate") {
      options.rate = std::stol(value());
    } else if (arg == "--duration") {
      options.duration_s = std::stod(value());
    } else if (arg == "--size") {
      options.size = std::stoul(value());
    } else if (arg == "--json") {
      options.json = true;
    } else {
      usage("unknown argument " + std::string(arg));
    }
  }
  if (options.url.empty()) usage("--url is required");
  if (options.rate < 2 || options.duration_s <= 0 || options.size < sizeof(Nanos)) {
    usage("--rate must be at least 2, --duration positive, --size at least 8");
  }
  return options;
}

void check(natsStatus status, const char* what) {
  if (status != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(status));
}

// Latencies recorded by both connections' cnats delivery threads, read by main at the end.
class Latencies {
 public:
  void record(Nanos value) {
    std::lock_guard lock(mutex_);
    histogram_.record(value);
  }
  LatencyHistogram snapshot() const {
    std::lock_guard lock(mutex_);
    return histogram_;
  }

 private:
  mutable std::mutex mutex_;
  LatencyHistogram histogram_;
};

// One stand-in node: a connection, the subscription on its own subject (cnats's delivery thread
// records each publication's latency into `latencies`, which must outlive it), and the
// publishing loop run by the caller's thread.
class Endpoint {
 public:
  Endpoint(const std::string& url, const std::string& own_subject, Latencies& latencies)
      : latencies_(latencies) {
    check(natsConnection_ConnectTo(&connection_, url.c_str()), "connect");
    check(natsConnection_Subscribe(&subscription_, connection_, own_subject.c_str(), &Endpoint::on_message, this),
          "subscribe");
    check(natsSubscription_SetPendingLimits(subscription_, -1, -1), "pending limits");
    check(natsConnection_Flush(connection_), "flush");
  }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  ~Endpoint() {
    natsSubscription_Destroy(subscription_);
    natsConnection_Destroy(connection_);
  }

  // Publishes `count` messages to `subject`, message i at start + i * interval.
  void publish(const std::string& subject, long count, Nanos start, Nanos interval, std::size_t size) {
    std::string payload(size, 'x');
    for (long i = 0; i < count; ++i) {
      const Nanos due = start + i * interval;
      const timespec at{static_cast<time_t>(due / achat::load::kNanosPerSecond),
                        static_cast<long>(due % achat::load::kNanosPerSecond)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
      }
      std::memcpy(payload.data(), &due, sizeof due);
      if (natsConnection_Publish(connection_, subject.c_str(), payload.data(), static_cast<int>(payload.size())) ==
          NATS_OK) {
        sent_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    natsConnection_FlushTimeout(connection_, 5'000);
  }

  std::uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }

 private:
  static void on_message(natsConnection*, natsSubscription*, natsMsg* message, void* self_pointer) {
    const Nanos arrived = now_ns();
    auto* self = static_cast<Endpoint*>(self_pointer);
    Nanos due = 0;
    if (natsMsg_GetDataLength(message) >= static_cast<int>(sizeof due)) {
      std::memcpy(&due, natsMsg_GetData(message), sizeof due);
      self->latencies_.record(arrived - due);
    }
    natsMsg_Destroy(message);
  }

  Latencies& latencies_;
  natsConnection* connection_ = nullptr;
  natsSubscription* subscription_ = nullptr;
  std::atomic<std::uint64_t> sent_{0};
};

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  try {
    Latencies latencies;
    Endpoint a(options.url, "anchor.a", latencies);
    Endpoint b(options.url, "anchor.b", latencies);
    const long per_endpoint = static_cast<long>(static_cast<double>(options.rate) * options.duration_s / 2);
    const Nanos interval = 2 * achat::load::kNanosPerSecond / options.rate;
    const Nanos start = now_ns() + 50'000'000;
    std::thread to_b([&] { a.publish("anchor.b", per_endpoint, start, interval, options.size); });
    b.publish("anchor.a", per_endpoint, start + interval / 2, interval, options.size);
    to_b.join();
    const Nanos deadline = now_ns() + 10 * achat::load::kNanosPerSecond;
    while (latencies.snapshot().count() < a.sent() + b.sent() && now_ns() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling the count, not synchronising
    }
    const LatencyHistogram all = latencies.snapshot();
    const auto us = [](Nanos ns) { return static_cast<double>(ns) / 1e3; };
    const double p50 = us(all.quantile(0.5));
    const double p99 = us(all.quantile(0.99));
    const double p999 = us(all.quantile(0.999));
    const std::uint64_t sent = a.sent() + b.sent();
    const std::uint64_t received = all.count();
    if (options.json) {
      std::printf("{\"ok\": %s, \"rate\": %ld, \"sent\": %llu, \"received\": %llu, \"nats_p50_us\": %.1f, "
                  "\"nats_p99_us\": %.1f, \"nats_p999_us\": %.1f}\n",
                  received == sent ? "true" : "false", options.rate, static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(received), p50, p99, p999);
    } else {
      std::printf("NATS publish -> subscribe, %ld publications/s of %zu bytes for %.0f s over two connections: "
                  "sent %llu, received %llu, p50 %.0f us, p99 %.0f us, p999 %.0f us\n",
                  options.rate, options.size, options.duration_s, static_cast<unsigned long long>(sent),
                  static_cast<unsigned long long>(received), p50, p99, p999);
    }
    return received == sent ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "a-chat-nats-latency: %s\n", error.what());
    return 1;
  }
}
