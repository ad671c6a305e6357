#include "receiver/postgres_ping_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ping/test_servers.h"
#include "receiver/ping_store_testing.h"

namespace furrow::receiver {
namespace {

UsageData Ping(const std::string& uuid, const std::string& recorded_at) {
  // Pretty-printed, as agents may send it: extracted lines must still be one line each.
  return *ParseUsageData(R"({
  "uuid":")" + uuid + R"(","recorded_at":")" + recorded_at +
                             R"(","hostname":"h.example","version":"16.3.0","license_trial":true,"counts":{"issues":3}})",
                         {});
}

TEST(PostgresPingStoreTest, StoresDeduplicatesListsScansAndVersions) {
  ping::testing::PostgresTestServer pg;
  Status started = pg.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto store = OpenPostgresPingStore(pg.url());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto first = (*store)->StoreUsageData(Ping("u1", "r1"), "127.0.0.1", "2026-01-02T00:00:00.000Z");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  auto again = (*store)->StoreUsageData(Ping("u1", "r1"), "127.0.0.1", "2026-01-02T00:00:01.000Z");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, first->id);
  ASSERT_TRUE((*store)->StoreUsageData(Ping("u1", "r2"), "", "2026-01-03T00:00:00.000Z").ok());
  ASSERT_TRUE((*store)->StoreMetadata("u1", R"({"uuid":"u1","metrics":[]})", "2026-01-02T00:00:00.000Z").ok());
  PingError e;
  e.uuid = "u1";
  e.message = "boom";
  e.payload = R"({"error":{"uuid":"u1"}})";
  ASSERT_TRUE((*store)->StoreError(e, "2026-01-02T00:00:00.000Z").ok());

  auto installations = (*store)->ListInstallations();
  ASSERT_TRUE(installations.ok());
  ASSERT_EQ(installations->size(), 1u);
  EXPECT_EQ((*installations)[0].ping_count, 2);
  auto pings = (*store)->ListPings("u1");
  ASSERT_TRUE(pings.ok());
  EXPECT_EQ(pings->size(), 2u);
  auto payload = (*store)->ReadPayload(first->id);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload, Ping("u1", "r1").payload);
  EXPECT_EQ((*store)->ReadPayload(999).status().code(), StatusCode::kNotFound);

  std::vector<std::string> lines;
  auto collect = [&](int64_t, const std::string& line) {
    lines.push_back(line);
    return Status::Ok();
  };
  for (const char* table : kExtractTables) {
    ASSERT_TRUE((*store)->ScanRows(table, "2026-01-02", "2026-01-03", 0, 100, collect).ok()) << table;
  }
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find(R"("uuid": "u1")"), std::string::npos) << lines[0];
  for (const std::string& line : lines) EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_NE(lines[1].find(R"("license_trial": true)"), std::string::npos) << lines[1];

  ASSERT_TRUE((*store)->AddVersion("16.3.0", "t").ok());
  EXPECT_EQ((*store)->AddVersion("16.3.0", "t").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*store)->MarkVulnerable("9.9.9", false).code(), StatusCode::kNotFound);
  ASSERT_TRUE((*store)->MarkVulnerable("16.3.0", false).ok());
  auto versions = (*store)->ListVersions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_TRUE((*versions)[0].vulnerable);
  EXPECT_FALSE((*versions)[0].critical);

  // Reopening does not reapply migrations.
  auto reopened = OpenPostgresPingStore(pg.url());
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
}

// Group commit under the write lock: many writers at once, each pair sent by every
// writer, store each (uuid, recorded_at) once.
TEST(PostgresPingStoreTest, ConcurrentRepeatsAreStoredOnceUnderGroupCommit) {
  ping::testing::PostgresTestServer pg;
  Status started = pg.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  auto store = OpenPostgresPingStore(pg.url());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  testing::ExpectConcurrentRepeatsStoreOnce(**store, 16, 40);
}

}  // namespace
}  // namespace furrow::receiver
