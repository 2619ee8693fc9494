// A test's own client of the claims bucket, beside the nodes it checks.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>

#include "cluster/claims_bucket.h"
#include "cluster/nats_handles.h"

namespace achat::testing {

// Owns a NATS connection, its JetStream context and the claims bucket's kvStore handle (which
// names the bucket, not one stream: it reads a bucket made again too). Used by the test's
// thread only. open() adds a gtest failure and returns false if NATS refuses any step.
struct ClaimsBucketClient {
  cluster::NatsConnectionHandle connection;
  cluster::JetStreamHandle js;
  cluster::KvStoreHandle kv;

  bool open(const std::string& url) {
    natsConnection* raw_connection = nullptr;
    EXPECT_EQ(natsConnection_ConnectTo(&raw_connection, url.c_str()), NATS_OK);
    connection.reset(raw_connection);
    if (!connection) return false;
    jsCtx* raw_js = nullptr;
    EXPECT_EQ(natsConnection_JetStream(&raw_js, raw_connection, nullptr), NATS_OK);
    js.reset(raw_js);
    if (!js) return false;
    kvStore* raw_kv = nullptr;
    EXPECT_EQ(js_KeyValue(&raw_kv, raw_js, cluster::kClaimsBucket), NATS_OK);
    kv.reset(raw_kv);
    return kv != nullptr;
  }
};

}  // namespace achat::testing
