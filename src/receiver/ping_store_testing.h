// Shared checks for PingStore implementations, used by their tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "receiver/ping_store.h"

namespace furrow::receiver::testing {

// `threads` threads store `pings` distinct (uuid, recorded_at) pairs at once, each pair
// sent by every thread: exactly one call per pair creates it, every other call gets
// the same id back, and the store ends up with one ping per pair. This is what group
// commit (SQLite) and the unique constraint (PostgreSQL) must keep under concurrency.
inline void ExpectConcurrentRepeatsStoreOnce(PingStore& store, int threads, int pings) {
  std::vector<std::vector<StoreResult>> results(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < pings; ++i) {
        int k = (i + t) % pings;  // threads walk the pairs in different orders
        std::string body = R"({"uuid":"c)" + std::to_string(k) + R"(","recorded_at":"2026-02-01T00:00:00Z",)"
                           R"("hostname":"h)" + std::to_string(k % 3) + R"(.example","counts":{"n":)" +
                           std::to_string(k) + "}}";
        Result<UsageData> d = ParseUsageData(body, {});
        ASSERT_TRUE(d.ok());
        Result<StoreResult> r = store.StoreUsageData(*d, "127.0.0.1", "2026-02-01T00:00:01.000Z");
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        results[t].push_back(*r);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  std::map<int64_t, int> created;
  std::map<int64_t, int> answered;
  for (const auto& per_thread : results) {
    ASSERT_EQ(per_thread.size(), static_cast<size_t>(pings));
    for (const StoreResult& r : per_thread) {
      answered[r.id]++;
      if (r.created) created[r.id]++;
    }
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(pings));
  EXPECT_EQ(created.size(), static_cast<size_t>(pings));
  for (const auto& [id, n] : created) EXPECT_EQ(n, 1) << "ping " << id << " created " << n << " times";
  for (const auto& [id, n] : answered) EXPECT_EQ(n, threads) << "ping " << id;
  Result<std::vector<InstallationSummary>> installations = store.ListInstallations();
  ASSERT_TRUE(installations.ok());
  EXPECT_EQ(installations->size(), static_cast<size_t>(pings));
  for (const InstallationSummary& i : *installations) EXPECT_EQ(i.ping_count, 1) << i.uuid;
}

}  // namespace furrow::receiver::testing
