#include "receiver/sqlite_ping_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ping/test_servers.h"
#include "receiver/ping_store_testing.h"

namespace furrow::receiver {
namespace {

UsageData Ping(const std::string& uuid, const std::string& recorded_at) {
  std::string body = R"({"uuid":")" + uuid + R"(","recorded_at":")" + recorded_at +
                     R"(","hostname":"h.example","version":"16.3.0","counts":{"issues":3}})";
  return *ParseUsageData(body, {});
}

TEST(SqlitePingStoreTest, StoresOnePingAndAnswersRepeatsWithTheSameId) {
  ping::testing::TempDir dir;
  auto store = OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto first = (*store)->StoreUsageData(Ping("u1", "2026-01-01T00:00:00Z"), "127.0.0.1", "2026-01-01T00:00:01.000Z");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  auto again = (*store)->StoreUsageData(Ping("u1", "2026-01-01T00:00:00Z"), "127.0.0.1", "2026-01-01T00:00:02.000Z");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->id, first->id);
  auto second = (*store)->StoreUsageData(Ping("u1", "2026-01-08T00:00:00Z"), "127.0.0.1", "2026-01-08T00:00:01.000Z");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->id, first->id);

  auto installations = (*store)->ListInstallations();
  ASSERT_TRUE(installations.ok());
  ASSERT_EQ(installations->size(), 1u);
  EXPECT_EQ((*installations)[0].ping_count, 2);
  EXPECT_EQ((*installations)[0].last_recorded_at, "2026-01-08T00:00:00Z");
  auto pings = (*store)->ListPings("u1");
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 2u);
  EXPECT_EQ((*pings)[0].id, first->id);
  auto payload = (*store)->ReadPayload(first->id);
  ASSERT_TRUE(payload.ok());
  EXPECT_NE(payload->find("\"issues\":3"), std::string::npos);
  EXPECT_EQ((*store)->ReadPayload(999).status().code(), StatusCode::kNotFound);
}

TEST(SqlitePingStoreTest, ReopeningKeepsDataAndDoesNotReapplyMigrations) {
  ping::testing::TempDir dir;
  std::string path = dir.path() + "/receiver.sqlite";
  {
    auto store = OpenSqlitePingStore(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->StoreUsageData(Ping("u", "r"), "", "2026-01-01T00:00:00.000Z").ok());
  }
  auto store = OpenSqlitePingStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto pings = (*store)->ListPings("u");
  ASSERT_TRUE(pings.ok());
  EXPECT_EQ(pings->size(), 1u);
}

TEST(SqlitePingStoreTest, ScanRowsReturnsOneDaysRowsAfterTheWatermarkAsJson) {
  ping::testing::TempDir dir;
  auto store = OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->StoreUsageData(Ping("a", "1"), "", "2026-01-01T23:59:59.999Z").ok());
  ASSERT_TRUE((*store)->StoreUsageData(Ping("b", "1"), "", "2026-01-02T00:00:00.000Z").ok());
  ASSERT_TRUE((*store)->StoreUsageData(Ping("c", "1"), "", "2026-01-02T10:00:00.000Z").ok());
  ASSERT_TRUE((*store)->StoreUsageData(Ping("d", "1"), "", "2026-01-03T00:00:00.000Z").ok());
  std::vector<std::string> lines;
  std::vector<int64_t> ids;
  auto collect = [&](int64_t id, const std::string& line) {
    ids.push_back(id);
    lines.push_back(line);
    return Status::Ok();
  };
  ASSERT_TRUE((*store)->ScanRows("raw_usage_data", "2026-01-02", "2026-01-03", 0, 100, collect).ok());
  ASSERT_EQ(ids, (std::vector<int64_t>{2, 3}));
  EXPECT_NE(lines[0].find(R"("payload":{"uuid":"b")"), std::string::npos) << lines[0];
  ids.clear();
  ASSERT_TRUE((*store)->ScanRows("usage_data", "2026-01-02", "2026-01-03", 2, 100, collect).ok());
  ASSERT_EQ(ids, (std::vector<int64_t>{3}));
  EXPECT_NE(lines.back().find(R"("stats":{"issues":3})"), std::string::npos) << lines.back();
  EXPECT_EQ((*store)->ScanRows("hosts; DROP TABLE x", "a", "b", 0, 1, collect).code(), StatusCode::kInvalidArgument);
}

TEST(SqlitePingStoreTest, VersionsAreAddedOnceAndMarkedVulnerable) {
  ping::testing::TempDir dir;
  auto store = OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->AddVersion("16.3.0", "t").ok());
  EXPECT_EQ((*store)->AddVersion("16.3.0", "t").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ((*store)->MarkVulnerable("1.0.0", true).code(), StatusCode::kNotFound);
  ASSERT_TRUE((*store)->MarkVulnerable("16.3.0", true).ok());
  auto versions = (*store)->ListVersions();
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_TRUE((*versions)[0].vulnerable);
  EXPECT_TRUE((*versions)[0].critical);
}

// Group commit: many writers at once, each pair sent by every writer, land in shared
// transactions and still store each (uuid, recorded_at) once.
TEST(SqlitePingStoreTest, ConcurrentRepeatsAreStoredOnceUnderGroupCommit) {
  ping::testing::TempDir dir;
  auto store = OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  testing::ExpectConcurrentRepeatsStoreOnce(**store, 16, 40);
}

TEST(SqlitePingStoreTest, RefusesAFileThatIsNotADatabase) {
  ping::testing::TempDir dir;
  std::string path = dir.path() + "/receiver.sqlite";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a sqlite database, just some text long enough to be a header....", f);
  std::fclose(f);
  auto store = OpenSqlitePingStore(path);
  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace furrow::receiver
