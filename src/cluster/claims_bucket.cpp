#include "claims_bucket.h"

#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string_view>

namespace achat::cluster {

namespace {

// nats-server's JSStreamWrongLastSequenceErr: the expected revision is not the latest.
constexpr int kWrongLastSequence = 10071;

// A KV write refused because of the revision: cnats 3.4.1 reports it as plain NATS_ERR whose
// text names the wrong last sequence.
ClaimOutcome classify(natsStatus status) {
  if (status == NATS_OK) return ClaimOutcome::done;
  if (status == NATS_ERR &&
      std::string_view(nats_GetLastError(nullptr)).find("wrong last sequence") != std::string_view::npos) {
    return ClaimOutcome::conflict;
  }
  return ClaimOutcome::unavailable;
}

}  // namespace

ClaimsBucket::ClaimsBucket(natsConnection* connection, std::chrono::milliseconds ttl,
                           std::chrono::milliseconds request_timeout)
    : ttl_(ttl) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = request_timeout.count();
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, connection, &options) != NATS_OK) {
    throw std::runtime_error("cluster: cannot create a JetStream context");
  }
  js_.reset(js);
}

bool ClaimsBucket::bind() {
  if (bound()) return true;
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = kClaimsBucket;
  config.History = 1;
  config.TTL = std::chrono::duration_cast<std::chrono::nanoseconds>(ttl_).count();
  config.Replicas = 1;
  config.StorageType = js_FileStorage;
  kvStore* kv = nullptr;
  natsStatus status = js_CreateKeyValue(&kv, js_.get(), &config);
  if (status != NATS_OK) {
    const std::string why = last_nats_error(status);
    // Another node made it with other settings (a different claim TTL): use it as it is.
    if (js_KeyValue(&kv, js_.get(), kClaimsBucket) != NATS_OK) {
      spdlog::debug("cluster: claims bucket not available yet: {}", why);
      return false;
    }
    spdlog::warn("cluster: using the existing claims bucket as it is ({})", why);
  }
  kv_.reset(kv);
  bound_.store(true, std::memory_order_release);
  return true;
}

ClaimOutcome ClaimsBucket::create(const std::string& key, const std::string& value,
                                  std::uint64_t& revision) {
  return classify(kvStore_Create(&revision, kv_.get(), key.c_str(), value.data(),
                                 static_cast<int>(value.size())));
}

ClaimOutcome ClaimsBucket::refresh(const std::string& key, const std::string& value,
                                   std::uint64_t& revision) {
  std::uint64_t next = 0;
  const ClaimOutcome outcome = classify(kvStore_Update(&next, kv_.get(), key.c_str(), value.data(),
                                                       static_cast<int>(value.size()), revision));
  if (outcome == ClaimOutcome::done) revision = next;
  return outcome;
}

ClaimOutcome ClaimsBucket::read(const std::string& key, std::string& value, std::uint64_t& revision) {
  std::chrono::system_clock::time_point written;
  return read(key, value, revision, written);
}

ClaimOutcome ClaimsBucket::read(const std::string& key, std::string& value, std::uint64_t& revision,
                                std::chrono::system_clock::time_point& written) {
  kvEntry* raw = nullptr;
  const natsStatus status = kvStore_Get(&raw, kv_.get(), key.c_str());
  if (status == NATS_NOT_FOUND) return ClaimOutcome::conflict;
  if (status != NATS_OK) return ClaimOutcome::unavailable;
  const KvEntryHandle entry(raw);
  value.assign(static_cast<const char*>(kvEntry_Value(entry.get())),
               static_cast<std::size_t>(kvEntry_ValueLen(entry.get())));
  revision = kvEntry_Revision(entry.get());
  written = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::nanoseconds(kvEntry_Created(entry.get()))));
  return ClaimOutcome::done;
}

// cnats 3.4.1's kvStore_Delete is unconditional; this is its message with the revision guard.
ClaimOutcome ClaimsBucket::remove(const std::string& key, std::uint64_t revision) {
  natsMsg* raw = nullptr;
  if (natsMsg_Create(&raw, claim_subject(key).c_str(), nullptr, nullptr, 0) != NATS_OK) {
    return ClaimOutcome::unavailable;
  }
  NatsMsgHandle message(raw);
  natsMsgHeader_Set(message.get(), "KV-Operation", "DEL");
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.ExpectLastSubjectSeq = revision;
  jsPubAck* ack = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_PublishMsg(&ack, js_.get(), message.get(), &options, &error);
  JsPubAckHandle owned_ack(ack);
  if (status == NATS_OK) return ClaimOutcome::done;
  return error == kWrongLastSequence ? ClaimOutcome::conflict : ClaimOutcome::unavailable;
}

}  // namespace achat::cluster
