#include "receiver/ping_pull.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ping/test_servers.h"
#include "receiver/sqlite_ping_store.h"

namespace furrow::receiver {
namespace {

TEST(PingPullTest, QueryLeavesAndMerge) {
  auto leaves = QueryLeaves(R"({"counts":{"issues":"SELECT 1","deep":{"x":"SELECT 2"}},"n":3})");
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), 2u);
  EXPECT_EQ((*leaves)[0].first, "counts.issues");
  EXPECT_EQ((*leaves)[1].first, "counts.deep.x");
  EXPECT_FALSE(QueryLeaves("[]").ok());
  auto merged = MergeMetrics(R"({"uuid":"u","counts":{"redis":4}})",
                             {{"counts.issues", 7}, {"counts_monthly.deployments", -1}, {"ratio", 0.5}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(*merged,
            R"({"uuid":"u","counts":{"redis":4,"issues":7},"counts_monthly":{"deployments":-1},"ratio":0.5})");
  EXPECT_FALSE(MergeMetrics(R"({"uuid":"u"})", {{"uuid.x", 1}}).ok());
}

TEST(PingPullTest, RunsTheInstallationsQueriesAndStoresItsPing) {
  ping::testing::TempDir dir;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/replica.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE issues(id INTEGER PRIMARY KEY); INSERT INTO issues VALUES (1), (2), (3);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ping::testing::TestReceiver api([](const ping::testing::ReceivedRequest& r) -> ping::testing::ScriptedResponse {
    if (r.target == "/usage_data/metric_definitions") return {200, "- key_path: counts.issues\n- key_path: counts.bad\n"};
    if (r.target == "/usage_data/queries") {
      return {200, R"({"counts":{"issues":"SELECT COUNT(*) FROM issues","bad":"SELECT COUNT(*) FROM missing"}})"};
    }
    if (r.target == "/usage_data/non_sql_metrics") {
      return {200, R"({"uuid":"saas","hostname":"gitlab.com","recorded_at":"2026-11-22T00:00:00Z","counts":{"hll":9}})"};
    }
    return {404, "{}"};
  });
  ASSERT_TRUE(api.Start().ok());
  ManualClock clock;
  auto database = ping::OpenSqlDatabase("sqlite://" + dir.path() + "/replica.db", clock);
  ASSERT_TRUE(database.ok()) << database.status().ToString();
  auto store = OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok());
  net::HttpClient client;
  PullOptions options;
  options.url = api.url();
  options.token = "pull-token-0123456789";
  auto result = PullPing(options, client, **database, **store, clock);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->created);
  EXPECT_EQ(result->queries, 2);
  EXPECT_EQ(result->failed, 1);
  EXPECT_EQ(result->definitions, 2);
  auto payload = (*store)->ReadPayload(result->usage_data_id);
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload,
            R"({"uuid":"saas","hostname":"gitlab.com","recorded_at":"2026-11-22T00:00:00Z","counts":{"hll":9,"issues":3,"bad":-1}})");
  // A second pull of the same (uuid, recorded_at) stores nothing new.
  EXPECT_EQ(api.requests().size(), 3u);
  auto again = PullPing(options, client, **database, **store, clock);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->usage_data_id, result->usage_data_id);
}

TEST(PingPullTest, RejectedTokenIsPermissionDenied) {
  ping::testing::TempDir dir;
  ping::testing::TestReceiver api(
      [](const ping::testing::ReceivedRequest&) -> ping::testing::ScriptedResponse { return {401, "{}"}; });
  ASSERT_TRUE(api.Start().ok());
  ManualClock clock;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/replica.db").c_str(), &db), SQLITE_OK);
  sqlite3_close(db);
  auto database = ping::OpenSqlDatabase("sqlite://" + dir.path() + "/replica.db", clock);
  ASSERT_TRUE(database.ok());
  auto store = OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok());
  net::HttpClient client;
  PullOptions options;
  options.url = api.url();
  options.token = "wrong";
  EXPECT_EQ(PullPing(options, client, **database, **store, clock).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace furrow::receiver
