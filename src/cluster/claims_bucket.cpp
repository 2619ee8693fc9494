#include "claims_bucket.h"

#include <spdlog/spdlog.h>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "claim_record.h"

namespace achat::cluster {

namespace {

// nats-server's JSStreamWrongLastSequenceErr: the expected revision is not the latest.
constexpr int kWrongLastSequence = 10071;

// nats-server's JSStreamNotFoundErr and JSNoMessageFoundErr.
constexpr int kStreamNotFound = 10059;
constexpr int kNoMessageFound = 10037;
// Marks a loser's put-back of the holder's record (claim_arbiter.h): not the holder's own write.
constexpr const char* kPutBackHeader = "Achat-Put-Back";
// How often the arbiter asks again while the replica it reached has not applied the writes.
constexpr std::chrono::milliseconds kArbiterRetry{2};

using StreamInfoHandle = std::unique_ptr<jsStreamInfo, NatsDeleter<jsStreamInfo_Destroy>>;

BucketShape shape_of(const jsStreamConfig& config) {
  return {config.MaxAge, config.Replicas, config.MaxMsgsPerSubject, config.AllowDirect};
}

std::string login_for_log(const std::string& key) { return login_of_key(key).value_or(key); }

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
                           std::chrono::milliseconds request_timeout, int replicas)
    : connection_(connection), ttl_(ttl), request_timeout_(request_timeout), replicas_(replicas) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = request_timeout.count();
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, connection, &options) != NATS_OK) {
    throw std::runtime_error("cluster: cannot create a JetStream context");
  }
  js_.reset(js);
}

BucketShape ClaimsBucket::wanted() const {
  return {std::chrono::duration_cast<std::chrono::nanoseconds>(ttl_).count(), replicas_, kClaimHistory, true};
}

bool ClaimsBucket::bind() {
  if (bound()) return true;
  placement_ = {};
  jsStreamInfo* raw_info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&raw_info, js_.get(), kClaimsStream, nullptr, &error);
  StreamInfoHandle info(raw_info);
  if (status == NATS_NOT_FOUND || error == kStreamNotFound) {
    if (!create_bucket()) return false;  // or another node made it just now: next time
    // Its shape and epoch as the server has them (the stream another node made first, if so).
    raw_info = nullptr;
    error = static_cast<jsErrCode>(0);
    status = js_GetStreamInfo(&raw_info, js_.get(), kClaimsStream, nullptr, &error);
    info.reset(raw_info);
  }
  if (status != NATS_OK || !info || !info->Config) {
    spdlog::debug("cluster: claims bucket not available yet: {}", last_nats_error(status));
    return false;
  }
  placement_ = placement_of(info.get(), connected_server(connection_));
  const BucketShape found = shape_of(*info->Config);
  switch (judge(found, wanted())) {
    case ShapeVerdict::same:
      break;
    case ShapeVerdict::migrate:
      if (!migrate(*info->Config)) return false;
      break;
    case ShapeVerdict::refuse:
      if (!refusal_) spdlog::error("{}", describe_mismatch(found, wanted()));
      refusal_ = describe_mismatch(found, wanted());
      return false;
  }
  if (!kv_) {
    kvStore* kv = nullptr;
    if (js_KeyValue(&kv, js_.get(), kClaimsBucket) != NATS_OK) {
      spdlog::debug("cluster: claims bucket not available yet: {}", last_nats_error(NATS_ERR));
      return false;
    }
    kv_.reset(kv);
  }
  refusal_.reset();
  epoch_.store(info->Created, std::memory_order_release);
  bound_.store(true, std::memory_order_release);
  return true;
}

std::optional<std::int64_t> ClaimsBucket::stream_epoch() {
  jsStreamInfo* raw_info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetStreamInfo(&raw_info, js_.get(), kClaimsStream, nullptr, &error);
  StreamInfoHandle info(raw_info);
  if (status != NATS_OK || !info) return std::nullopt;
  return info->Created;
}

BucketCheck ClaimsBucket::verify() {
  if (!bound()) return bind() ? BucketCheck::rebound : BucketCheck::unavailable;
  jsStreamInfo* raw_info = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetStreamInfo(&raw_info, js_.get(), kClaimsStream, nullptr, &error);
  StreamInfoHandle info(raw_info);
  const bool gone = status == NATS_NOT_FOUND || error == kStreamNotFound;
  placement_ = gone || status != NATS_OK ? ClusterClaimsLeader{} : placement_of(info.get(), connected_server(connection_));
  if (!gone && (status != NATS_OK || !info)) return BucketCheck::unavailable;  // NATS away: no news
  if (!gone && info->Created == epoch()) return BucketCheck::same;
  const std::int64_t was = epoch();
  const std::int64_t found = gone ? 0 : info->Created;
  bound_.store(false, std::memory_order_release);
  const bool rebound = bind();
  // A server not yet caught up (after a restart, an election) can say "not found" of a stream
  // that is there: bound again to the same stream, nothing happened.
  if (rebound && epoch() == was) return BucketCheck::same;
  // Every claim in it went with it, and revisions restart at 1 in the next one. Logged once:
  // until bound again, the next calls go through bind() alone.
  if (gone) {
    spdlog::warn("cluster: the claims bucket (stream {}) is gone, deleted under the running node: making it "
                 "again, watching it afresh and claiming this node's logins again", kClaimsStream);
  } else {
    spdlog::warn("cluster: the claims bucket (stream {}) was made again under the running node (created "
                 "{} ns, was {} ns): watching it afresh and claiming this node's logins again", kClaimsStream,
                 found, was);
  }
  return rebound ? BucketCheck::rebound : BucketCheck::unavailable;
}

bool ClaimsBucket::create_bucket() {
  kvConfig config;
  kvConfig_Init(&config);
  config.Bucket = kClaimsBucket;
  config.History = static_cast<uint8_t>(kClaimHistory);
  config.TTL = wanted().max_age_ns;
  config.Replicas = replicas_;
  config.StorageType = js_FileStorage;
  kvStore* kv = nullptr;
  const natsStatus status = js_CreateKeyValue(&kv, js_.get(), &config);
  KvStoreHandle created(kv);
  if (status != NATS_OK) {
    spdlog::debug("cluster: cannot create the claims bucket yet: {}", last_nats_error(status));
    return false;
  }
  spdlog::info("cluster: created the claims bucket, {} replica(s), claim TTL {} ms", replicas_, ttl_.count());
  return true;
}

// The one migration: a-chat's bucket from before --claim-replicas (one replica, one message per
// key, same TTL) is given this node's replicas and history. Every node of the old version must
// be stopped first (README): they would create claims without asking the arbiter.
bool ClaimsBucket::migrate(jsStreamConfig& config) {
  config.Replicas = replicas_;
  config.MaxMsgsPerSubject = kClaimHistory;
  config.AllowDirect = true;
  jsStreamInfo* raw = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_UpdateStream(&raw, js_.get(), &config, nullptr, &error);
  StreamInfoHandle updated(raw);
  if (status != NATS_OK) {
    spdlog::warn("cluster: cannot migrate the claims bucket to {} replicas yet: {}", replicas_,
                 last_nats_error(status));
    return false;
  }
  spdlog::warn("cluster: migrated the claims bucket from 1 replica to {} ({} messages per key)", replicas_,
               kClaimHistory);
  return true;
}

ClaimOutcome ClaimsBucket::create(const std::string& key, const std::string& value,
                                  std::uint64_t& revision) {
  const auto deadline = std::chrono::steady_clock::now() + request_timeout_;
  while (true) {
    std::uint64_t expected = 0;
    bool unanswered = false;  // the write timed out: NATS may have applied it all the same
    ClaimOutcome outcome = write(key, &value, expected, revision, false, &unanswered);
    if (outcome == ClaimOutcome::conflict) {
      // A record is there: the key is free only if it is a delete marker (cnats's kvStore_Create
      // does the same; here the expected revision is kept for the arbiter).
      KeyRecord last;
      outcome = record(key, 0, last);
      // A write older than the TTL by this node's clock has expired (its holder would have
      // rewritten it): free, though nats-server 2.9 may not have removed it yet (#3653).
      const auto age = std::chrono::system_clock::now().time_since_epoch() - std::chrono::nanoseconds(last.written_ns);
      if (outcome == ClaimOutcome::done && !last.deleted && !last.put_back && last.value == value && age < ttl_) {
        // Our own record (its nonce): NATS applied a write of ours and reported a conflict (a
        // publish cnats sent again after a server was lost, the first one applied), or an earlier
        // attempt's acknowledgement was lost. Settled like any create, from the key's start.
        spdlog::warn("cluster: claim of {} found written at revision {} though NATS refused it; settling it",
                     login_for_log(key), last.revision);
        revision = last.revision;
        outcome = arbitrate(key, 0, revision);
        if (outcome == ClaimOutcome::unavailable) return read_back(key, value, 0, revision);
        return outcome;
      }
      if (outcome == ClaimOutcome::done && !last.deleted && age < ttl_) return ClaimOutcome::conflict;
      if (outcome == ClaimOutcome::done) {
        expected = last.revision;
        outcome = write(key, &value, expected, revision, false, &unanswered);
        if (outcome == ClaimOutcome::conflict) {  // written again since: look again
          if (std::chrono::steady_clock::now() >= deadline) return ClaimOutcome::unavailable;
          continue;
        }
      } else if (outcome == ClaimOutcome::conflict) {
        // No record after all: the replica that answered is behind, or the key expired since.
        if (std::chrono::steady_clock::now() >= deadline) return ClaimOutcome::unavailable;
        std::this_thread::sleep_for(kArbiterRetry);
        continue;
      }
    }
    if (unanswered) return read_back(key, value, expected, revision);
    if (outcome != ClaimOutcome::done) return outcome;
    outcome = arbitrate(key, expected, revision);
    // Undecided, or our record is not at the revision NATS acknowledged (after a server was
    // lost, nats-server 2.9.10 was seen to store it at a later one): found again by its value.
    if (outcome == ClaimOutcome::unavailable) return read_back(key, value, expected, revision);
    return outcome;
  }
}

ClaimsBucket::Settled ClaimsBucket::settle(const std::string& key, ClaimArbiter& arbiter,
                                           std::chrono::steady_clock::time_point deadline) {
  bool answered = false;  // some read was answered, if only with "no such record"
  while (true) {
    KeyRecord next;
    const ClaimOutcome outcome = record(key, arbiter.next(), next);
    answered = answered || outcome != ClaimOutcome::unavailable;
    if (outcome == ClaimOutcome::done) {
      if (arbiter.feed(next)) continue;
      if (!arbiter.reached()) {
        spdlog::warn("cluster: claim of {} at revision {} is not in the stream: the key's next record is "
                     "revision {} ({})", login_for_log(key), arbiter.mine(), next.revision,
                     next.deleted ? "a delete" : next.put_back ? "a put-back" : next.value);
      }
      return Settled::decided;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return answered && arbiter.mine() == 0 ? Settled::absent : Settled::undecided;
    }
    // The replica has not applied our write yet (or, its revision unknown, it may never have
    // been applied), or NATS did not answer (a server lost mid-way, a reconnect): ask again.
    std::this_thread::sleep_for(kArbiterRetry);
  }
}

ClaimOutcome ClaimsBucket::verdict(const std::string& key, const ClaimArbiter& arbiter) {
  if (!arbiter.reached()) return ClaimOutcome::unavailable;  // our record is gone already
  if (arbiter.won()) return ClaimOutcome::done;
  // Another write came first: it holds the name. Its record goes back over ours, guarded by
  // ours, so its holder's next refresh finds its own value (the keeper adopts it) and the
  // watchers' directories point at it again. Refused if someone wrote since: then that write
  // (a later loser's, which puts it back itself) is the last.
  std::uint64_t restored = 0;
  write(key, &arbiter.winner()->value, arbiter.mine(), restored, /*put_back=*/true);
  spdlog::info("cluster: claim of {} (revision {}) came after revision {}; refused", login_for_log(key),
               arbiter.mine(), arbiter.winner()->revision);
  return ClaimOutcome::conflict;
}

ClaimOutcome ClaimsBucket::arbitrate(const std::string& key, std::uint64_t expected, std::uint64_t mine) {
  ClaimArbiter arbiter(expected, mine, wanted().max_age_ns);
  if (settle(key, arbiter, std::chrono::steady_clock::now() + request_timeout_) != Settled::decided) {
    return ClaimOutcome::unavailable;
  }
  return verdict(key, arbiter);
}

ClaimOutcome ClaimsBucket::read_back(const std::string& key, const std::string& value, std::uint64_t expected,
                                     std::uint64_t& revision) {
  ClaimArbiter arbiter(expected, value, wanted().max_age_ns);
  spdlog::warn("cluster: claim of {} unconfirmed; reading it back", login_for_log(key));
  switch (settle(key, arbiter, std::chrono::steady_clock::now() + request_timeout_)) {
    case Settled::decided: {
      const ClaimOutcome outcome = verdict(key, arbiter);
      if (outcome == ClaimOutcome::done) {
        revision = arbiter.mine();
        spdlog::info("cluster: claim of {} read back at revision {}: it came first", login_for_log(key), revision);
      }
      return outcome;
    }
    case Settled::absent:
      // Not applied as far as NATS said: nothing of ours stands (should it be applied later
      // after all, it is unowned and expires after the claim TTL).
      spdlog::warn("cluster: claim of {} not found when read back; refused", login_for_log(key));
      return ClaimOutcome::unavailable;
    case Settled::undecided:
      break;
  }
  // Deleting our record without knowing the order could free a winner's name (claim_arbiter.h):
  // it stays, unowned, until it expires after the claim TTL.
  spdlog::warn("cluster: claim of {} could not be read back (NATS not answering); refused, and "
               "the name stays taken until the claim TTL", login_for_log(key));
  return ClaimOutcome::unavailable;
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

ClaimOutcome ClaimsBucket::remove(const std::string& key, std::uint64_t revision) {
  std::uint64_t ignored = 0;
  return write(key, nullptr, revision, ignored);
}

ClaimOutcome ClaimsBucket::release(const std::string& key, std::uint64_t revision) {
  // Each retry follows a write that came in between (a loser's record or its put-back).
  constexpr int kAttempts = 4;
  ClaimOutcome outcome = ClaimOutcome::conflict;
  for (int attempt = 0; attempt < kAttempts && outcome == ClaimOutcome::conflict; ++attempt) {
    outcome = remove(key, revision);
    if (outcome != ClaimOutcome::conflict) return outcome;
    std::uint64_t latest = 0;
    if (held_since(key, revision, latest) != ClaimOutcome::done) return ClaimOutcome::conflict;
    revision = latest;
  }
  return outcome;
}

ClaimOutcome ClaimsBucket::held_since(const std::string& key, std::uint64_t revision, std::uint64_t& latest) {
  KeyRecord next;
  ClaimOutcome outcome = record(key, revision, next);
  if (outcome != ClaimOutcome::done) return outcome;
  if (next.revision != revision || next.deleted) return ClaimOutcome::conflict;  // expired, or not ours
  latest = revision;
  std::int64_t written = next.written_ns;
  while ((outcome = record(key, latest + 1, next)) == ClaimOutcome::done) {
    // Deleted since, or expired in between (claim_arbiter.h).
    if (next.deleted || next.written_ns - written >= wanted().max_age_ns) return ClaimOutcome::conflict;
    latest = next.revision;
    if (!next.put_back) written = next.written_ns;
  }
  // The end of the key's records, as far as the replica that answered has them: a write it has
  // not applied yet makes the caller's guarded write fail, and it asks again.
  return outcome == ClaimOutcome::conflict ? ClaimOutcome::done : outcome;
}

// cnats 3.4.1's kvStore_Delete is unconditional and its kvStore_Create hides the revision it
// expected; this is their message with the revision guard.
ClaimOutcome ClaimsBucket::write(const std::string& key, const std::string* value, std::uint64_t expected,
                                 std::uint64_t& revision, bool put_back, bool* unanswered) {
  natsMsg* raw = nullptr;
  if (natsMsg_Create(&raw, claim_subject(key).c_str(), nullptr, value ? value->data() : nullptr,
                     value ? static_cast<int>(value->size()) : 0) != NATS_OK) {
    return ClaimOutcome::unavailable;
  }
  NatsMsgHandle message(raw);
  if (!value) natsMsgHeader_Set(message.get(), "KV-Operation", "DEL");
  if (put_back) natsMsgHeader_Set(message.get(), kPutBackHeader, "1");
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.ExpectLastSubjectSeq = expected;
  options.ExpectNoMessage = expected == 0;
  jsPubAck* ack = nullptr;
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status = js_PublishMsg(&ack, js_.get(), message.get(), &options, &error);
  JsPubAckHandle owned_ack(ack);
  if (status == NATS_OK) {
    revision = ack->Sequence;
    return ClaimOutcome::done;
  }
  if (unanswered) *unanswered = status == NATS_TIMEOUT;
  return error == kWrongLastSequence ? ClaimOutcome::conflict : ClaimOutcome::unavailable;
}

ClaimOutcome ClaimsBucket::record(const std::string& key, std::uint64_t from, KeyRecord& found) {
  const std::string subject = claim_subject(key);
  jsDirectGetMsgOptions options;
  jsDirectGetMsgOptions_Init(&options);
  options.Sequence = from;
  options.NextBySubject = subject.c_str();
  natsMsg* raw = nullptr;
  // The last record from the leader (a follower may be behind, nats-server #4710); the next one
  // after a revision from any replica (each holds a prefix of the stream: claim_arbiter.h).
  jsErrCode error = static_cast<jsErrCode>(0);
  const natsStatus status =
      from == 0 ? js_GetLastMsg(&raw, js_.get(), kClaimsStream, subject.c_str(), nullptr, &error)
                : js_DirectGetMsg(&raw, js_.get(), kClaimsStream, nullptr, &options);
  if (status == NATS_NOT_FOUND || error == kNoMessageFound) return ClaimOutcome::conflict;
  if (status != NATS_OK) return ClaimOutcome::unavailable;
  NatsMsgHandle message(raw);
  found.revision = natsMsg_GetSequence(message.get());
  const char* operation = nullptr;
  found.deleted = natsMsgHeader_Get(message.get(), "KV-Operation", &operation) == NATS_OK && operation &&
                  (std::string_view(operation) == "DEL" || std::string_view(operation) == "PURGE");
  found.value.assign(natsMsg_GetData(message.get()), static_cast<std::size_t>(natsMsg_GetDataLength(message.get())));
  found.written_ns = natsMsg_GetTime(message.get());
  const char* put_back = nullptr;
  found.put_back = natsMsgHeader_Get(message.get(), kPutBackHeader, &put_back) == NATS_OK;
  return ClaimOutcome::done;
}

}  // namespace achat::cluster
