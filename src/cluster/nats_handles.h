// Owning handles for cnats objects: each is destroyed once, with its own cnats destroy call.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

namespace achat::cluster {

template <auto Destroy>
struct NatsDeleter {
  template <class T>
  void operator()(T* object) const noexcept {
    Destroy(object);
  }
};

using NatsOptionsHandle = std::unique_ptr<natsOptions, NatsDeleter<natsOptions_Destroy>>;
using NatsConnectionHandle = std::unique_ptr<natsConnection, NatsDeleter<natsConnection_Destroy>>;
using NatsSubscriptionHandle = std::unique_ptr<natsSubscription, NatsDeleter<natsSubscription_Destroy>>;
using NatsMsgHandle = std::unique_ptr<natsMsg, NatsDeleter<natsMsg_Destroy>>;
using JetStreamHandle = std::unique_ptr<jsCtx, NatsDeleter<jsCtx_Destroy>>;
using KvStoreHandle = std::unique_ptr<kvStore, NatsDeleter<kvStore_Destroy>>;
using KvEntryHandle = std::unique_ptr<kvEntry, NatsDeleter<kvEntry_Destroy>>;
using KvWatcherHandle = std::unique_ptr<kvWatcher, NatsDeleter<kvWatcher_Destroy>>;
using JsPubAckHandle = std::unique_ptr<jsPubAck, NatsDeleter<jsPubAck_Destroy>>;

// The calling thread's last cnats error, for the log ("timeout", "wrong last sequence: 7").
inline std::string last_nats_error(natsStatus status) {
  const char* text = nats_GetLastError(nullptr);
  return text && *text ? text : natsStatus_GetText(status);
}

}  // namespace achat::cluster
