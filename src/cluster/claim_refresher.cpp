#include "claim_refresher.h"

#include <stdexcept>
#include <utility>

namespace achat::cluster {

namespace {

// Rewrites unanswered at once: enough to keep the stream busy while acknowledgements come back,
// few enough that a stalled server holds up a bounded amount.
constexpr std::int64_t kMaxInFlight = 1024;

}  // namespace

ClaimRefresher::ClaimRefresher(natsConnection* connection, std::chrono::milliseconds request_timeout)
    : request_timeout_(request_timeout) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = request_timeout.count();
  options.PublishAsync.MaxPending = kMaxInFlight;
  options.PublishAsync.StallWait = request_timeout.count();
  options.PublishAsync.AckHandler = on_ack;
  options.PublishAsync.AckHandlerClosure = this;
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, connection, &options) != NATS_OK) {
    throw std::runtime_error("cluster: cannot create a JetStream context for refreshes");
  }
  js_.reset(js);
}

ClaimRefresher::~ClaimRefresher() {
  {
    // No rewrite of ours in cnats's hands, so no handler will reach this object. It also spares
    // cnats 3.4.1's js_PublishAsyncGetPendingList a context that never published (it crashes).
    std::lock_guard lock(mutex_);
    if (sent_.empty()) return;
  }
  natsMsgList unanswered{};
  if (js_PublishAsyncGetPendingList(&unanswered, js_.get()) == NATS_OK) natsMsgList_Destroy(&unanswered);
  // cnats now counts as pending only the handlers already past its lookup; this returns when
  // they have.
  js_PublishAsyncComplete(js_.get(), nullptr);
}

bool ClaimRefresher::send(ClaimBook::Id id, const ClaimBook::Claim& claim, const std::string& value) {
  return publish(id, claim, value, ClaimWrite::rewrite);
}

bool ClaimRefresher::send_delete(ClaimBook::Id id, const ClaimBook::Claim& claim) {
  return publish(id, claim, std::string(), ClaimWrite::remove);
}

bool ClaimRefresher::send_create(ClaimBook::Id id, const std::string& key, const std::string& value,
                                 std::int64_t epoch) {
  return publish(id, ClaimBook::Claim{key, 0, epoch, value}, value, ClaimWrite::create);
}

bool ClaimRefresher::publish(ClaimBook::Id id, const ClaimBook::Claim& claim, const std::string& value,
                             ClaimWrite write) {
  if (in_flight(id)) return true;
  natsMsg* raw = nullptr;
  if (natsMsg_Create(&raw, claim_subject(claim.key).c_str(), nullptr, value.data(),
                     static_cast<int>(value.size())) != NATS_OK) {
    return false;
  }
  NatsMsgHandle message(raw);
  // What cnats 3.4.1's kvStore_Delete sends, with the revision guard below.
  if (write == ClaimWrite::remove && natsMsgHeader_Set(raw, "KV-Operation", "DEL") != NATS_OK) return false;
  {
    // Before publishing: the acknowledgement can come before js_PublishMsgAsync returns.
    std::lock_guard lock(mutex_);
    sent_.emplace(raw, Sent{id, claim.key, claim.revision, claim.epoch, std::chrono::steady_clock::now(), write, value});
    in_flight_.insert(id);
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  if (write == ClaimWrite::create) {
    options.ExpectNoMessage = true;
  } else {
    options.ExpectLastSubjectSeq = claim.revision;
  }
  options.MaxWait = request_timeout_.count();
  natsMsg* handed = raw;
  js_PublishMsgAsync(js_.get(), &handed, &options);
  if (!handed) {
    message.release();  // cnats owns it; the handler gets it back
    return true;
  }
  std::lock_guard lock(mutex_);
  sent_.erase(raw);
  in_flight_.erase(id);
  return false;
}

bool ClaimRefresher::in_flight(ClaimBook::Id id) const {
  std::lock_guard lock(mutex_);
  return in_flight_.contains(id);
}

void ClaimRefresher::wait() { wait_until(std::chrono::steady_clock::now() + request_timeout_); }

void ClaimRefresher::wait_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return;  // MaxWait 0 would mean no limit at all
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = left.count();
  js_PublishAsyncComplete(js_.get(), &options);
}

bool ClaimRefresher::wait_for_room(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return answered_.wait_until(lock, deadline, [this] {
    return sent_.size() < static_cast<std::size_t>(kMaxInFlight);
  });
}

std::vector<ClaimRefresher::Outcome> ClaimRefresher::take_outcomes() {
  std::lock_guard lock(mutex_);
  for (const auto& outcome : outcomes_) in_flight_.erase(outcome.id);
  return std::exchange(outcomes_, {});
}

void ClaimRefresher::on_ack(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* self) {
  const NatsMsgHandle owned(message);
  auto& refresher = *static_cast<ClaimRefresher*>(self);
  if (ack) {
    refresher.record(message, ClaimOutcome::done, ack->Sequence);
  } else {
    const bool conflict = error && error->ErrCode == JSStreamWrongLastSequenceErr;
    refresher.record(message, conflict ? ClaimOutcome::conflict : ClaimOutcome::unavailable, 0);
  }
}

void ClaimRefresher::record(const natsMsg* message, ClaimOutcome outcome, std::uint64_t revision) {
  std::lock_guard lock(mutex_);
  const auto found = sent_.find(message);
  if (found == sent_.end()) return;
  Sent& sent = found->second;
  outcomes_.push_back(Outcome{sent.id, std::move(sent.key), sent.revision, sent.epoch, outcome, revision,
                              sent.at, sent.write, std::move(sent.value)});
  sent_.erase(found);
  answered_.notify_all();
}

}  // namespace achat::cluster
