#include "warehouse/loader.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <string>

#include "ping/test_servers.h"
#include "receiver/extract.h"
#include "receiver/sqlite_ping_store.h"
#include "sink/compressor.h"
#include "storage/local_object_store.h"
#include "warehouse/sqlite_warehouse.h"

namespace furrow::warehouse {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first column of the first row of `sql` on the SQLite file, as text.
std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

TEST(LoaderTest, FlattensNumericLeavesAndMarksTimeouts) {
  std::vector<PingMetric> metrics;
  ASSERT_TRUE(FlattenPayload(R"({"uuid":"u","counts":{"issues":3,"slow":-1,"h":{"-1":-1}},
      "redis_hll_counters":{"search":{"i_search_total_weekly":7}},"flag":true,"name":"x","list":[1,2]})",
                             &metrics)
                  .ok());
  ASSERT_EQ(metrics.size(), 5u);
  EXPECT_EQ(metrics[0].path, "counts.issues");
  EXPECT_EQ(metrics[0].value, 3);
  EXPECT_EQ(metrics[1].path, "counts.slow");
  EXPECT_EQ(metrics[1].value, 0);
  EXPECT_TRUE(metrics[1].has_timed_out);
  EXPECT_EQ(metrics[2].path, "counts.h.-1");
  EXPECT_TRUE(metrics[2].has_timed_out);
  EXPECT_EQ(metrics[3].path, "redis_hll_counters.search.i_search_total_weekly");
  EXPECT_FALSE(metrics[3].has_timed_out);
  EXPECT_EQ(metrics[4].path, "flag");
  EXPECT_EQ(metrics[4].value, 1);
  EXPECT_FALSE(FlattenPayload("[1]", &metrics).ok());
}

TEST(LoaderTest, InstallationIdHashesHostAndUuid) {
  EXPECT_EQ(InstallationId("h", "u").size(), 64u);
  EXPECT_NE(InstallationId("h", "u"), InstallationId("h2", "u"));
  EXPECT_NE(InstallationId("h", "u"), InstallationId("", "h\nu").substr(0, 0) + InstallationId("hu", ""));
}

class LoaderLakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = receiver::OpenSqlitePingStore(dir_.path() + "/receiver.sqlite");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto lake = storage::LocalObjectStore::Open(dir_.path() + "/lake");
    ASSERT_TRUE(lake.ok());
    lake_ = std::move(*lake);
    warehouse_path_ = dir_.path() + "/warehouse.sqlite";
  }
  ping::testing::TempDir dir_;
  std::unique_ptr<receiver::PingStore> store_;
  std::unique_ptr<storage::LocalObjectStore> lake_;
  std::string warehouse_path_;
  ManualClock clock_;
};

TEST_F(LoaderLakeTest, LoadsTheGitlabExampleThroughExtractOnceOnly) {
  auto data = receiver::ParseUsageData(ReadFile("../shared/data/gitlab/payloads/service_ping_example.json"), {});
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(store_->StoreUsageData(*data, "127.0.0.1", "2026-04-01T10:00:00.000Z").ok());
  auto extracted = receiver::ExtractDay(*store_, *lake_, "2026-04-01");
  ASSERT_TRUE(extracted.ok()) << extracted.status().ToString();

  std::vector<PingMetric> expected;
  ASSERT_TRUE(FlattenPayload(data->payload, &expected).ok());
  ASSERT_GT(expected.size(), 20u);
  {
    auto w = OpenSqliteWarehouse(warehouse_path_, clock_);
    ASSERT_TRUE(w.ok());
    LoadOptions options;
    auto stats = LoadFromLake(*lake_, **w, options);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->files, 1);
    EXPECT_EQ(stats->pings, 1);
    EXPECT_EQ(stats->metric_rows, static_cast<int64_t>(expected.size()));
  }
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM ping_instance_metric"), std::to_string(expected.size()));
  EXPECT_EQ(Query(warehouse_path_, "SELECT installation_id FROM ping_instance"),
            InstallationId("example.com", "0000000-0000-0000-0000-000000000000"));
  EXPECT_EQ(Query(warehouse_path_, "SELECT CAST(metric_value AS INTEGER) FROM ping_instance_metric WHERE metric_path "
                                   "= 'active_user_count'"),
            "999");

  // A re-run loads nothing; a new extract file with the same ping id adds no row.
  auto w = OpenSqliteWarehouse(warehouse_path_, clock_);
  ASSERT_TRUE(w.ok());
  auto rerun = LoadFromLake(*lake_, **w, {});
  ASSERT_TRUE(rerun.ok());
  EXPECT_EQ(rerun->files, 0);
  EXPECT_EQ(rerun->skipped_files, 1);
  auto copy = lake_->Get("pings/raw_usage_data/date=2026-04-01/00000000000000000001-00000000000000000001.jsonl.gz");
  ASSERT_TRUE(copy.ok());
  ASSERT_TRUE(lake_->Put("pings/raw_usage_data/date=2026-04-02/00000000000000000001-00000000000000000001.jsonl.gz",
                         *copy, {})
                  .ok());
  auto dup = LoadFromLake(*lake_, **w, {});
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->files, 1);
  EXPECT_EQ(dup->duplicate_pings, 1);
  EXPECT_EQ(dup->metric_rows, 0);
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM ping_instance_metric"), std::to_string(expected.size()));
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM load_manifest"), "2");
}

// The loader inflates and parses a file while it inserts, so a file that turns out to
// be damaged half-way has had rows inserted: they must all be rolled back, with no
// manifest row, and the repaired file loads whole.
TEST_F(LoaderLakeTest, TruncatedPingFileStopsTheRunAndStoresNothingOfIt) {
  auto data = receiver::ParseUsageData(ReadFile("../shared/data/gitlab/payloads/service_ping_example.json"), {});
  ASSERT_TRUE(data.ok());
  for (const char* uuid : {"u1", "u2", "u3", "u4"}) {
    data->uuid = uuid;
    ASSERT_TRUE(store_->StoreUsageData(*data, "127.0.0.1", "2026-04-01T10:00:00.000Z").ok());
  }
  ASSERT_TRUE(receiver::ExtractDay(*store_, *lake_, "2026-04-01").ok());
  const std::string key = "pings/raw_usage_data/date=2026-04-01/00000000000000000001-00000000000000000004.jsonl.gz";
  auto good = lake_->Get(key);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_TRUE(lake_->Put(key, good->substr(0, good->size() * 3 / 4), {}).ok());
  auto w = OpenSqliteWarehouse(warehouse_path_, clock_);
  ASSERT_TRUE(w.ok());
  auto failed = LoadFromLake(*lake_, **w, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(failed.status().ToString().find(key), std::string::npos);
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM ping_instance"), "0");
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM ping_instance_metric"), "0");
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM load_manifest"), "0");

  ASSERT_TRUE(lake_->Put(key, *good, {}).ok());
  auto loaded = LoadFromLake(*lake_, **w, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->pings, 4);
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM ping_instance"), "4");
  // Regression: every ping's metric rows carry that ping's id and installation (the
  // ping columns, bound once per ping, once stayed those of the file's first ping).
  EXPECT_EQ(Query(warehouse_path_,
                  "SELECT COUNT(*) FROM ping_instance i WHERE metric_count = (SELECT COUNT(*) FROM "
                  "ping_instance_metric m WHERE m.ping_id = i.ping_id AND m.installation_id = i.installation_id "
                  "AND m.recorded_at = i.recorded_at)"),
            "4");
}

// Leaving WAL for a rollback journal needs the file to itself: a warehouse in WAL mode
// that an analyst's connection has open must still load (staying in WAL).
TEST_F(LoaderLakeTest, LoadsIntoAWalWarehouseAnotherConnectionHasOpen) {
  sqlite3* analyst = nullptr;
  ASSERT_EQ(sqlite3_open(warehouse_path_.c_str(), &analyst), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(analyst, "PRAGMA journal_mode=WAL; CREATE TABLE notes (x)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto data = receiver::ParseUsageData(ReadFile("../shared/data/gitlab/payloads/service_ping_example.json"), {});
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(store_->StoreUsageData(*data, "127.0.0.1", "2026-04-01T10:00:00.000Z").ok());
  ASSERT_TRUE(receiver::ExtractDay(*store_, *lake_, "2026-04-01").ok());
  {
    auto w = OpenSqliteWarehouse(warehouse_path_, clock_);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    auto stats = LoadFromLake(*lake_, **w, {});
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->pings, 1);
  }
  EXPECT_EQ(Query(warehouse_path_, "PRAGMA journal_mode"), "wal");
  sqlite3_close(analyst);
}

TEST_F(LoaderLakeTest, LoadsEventFilesAndSkipsBadLines) {
  std::string good(130, '\t');
  good.insert(0, "app");  // app_id = "app", the rest empty
  std::string text = good + "\n" + "only\tthree\tfields\n" + good + "\n";
  auto compressor = sink::Compressor::Create(sink::Compression::kGzip);
  ASSERT_TRUE(compressor->Append(text).ok());
  ASSERT_TRUE(compressor->Finish().ok());
  ASSERT_TRUE(lake_->Put("output/2026/04/01/10/part-1.tsv.gz", compressor->TakeOutput(), {}).ok());
  auto w = OpenSqliteWarehouse(warehouse_path_, clock_);
  ASSERT_TRUE(w.ok());
  LoadOptions options;
  options.pings = false;
  auto stats = LoadFromLake(*lake_, **w, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->events, 2);
  EXPECT_EQ(stats->bad_lines, 1);
  EXPECT_EQ(Query(warehouse_path_, "SELECT COUNT(*) FROM events WHERE app_id = 'app' AND platform IS NULL"), "2");
  auto again = LoadFromLake(*lake_, **w, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->events, 0);
}

TEST(LoaderTest, SnowflakeSqlNamesStageFormatsAndCopies) {
  std::string sql = SnowflakeSql("s3://bucket/lake");
  EXPECT_NE(sql.find("CREATE STAGE IF NOT EXISTS furrow_lake URL = 's3://bucket/lake/'"), std::string::npos);
  EXPECT_NE(sql.find("CREATE FILE FORMAT"), std::string::npos);
  EXPECT_NE(sql.find("COPY INTO raw_usage_data"), std::string::npos);
  EXPECT_NE(sql.find("COPY INTO events"), std::string::npos);
  EXPECT_NE(sql.find("app_id STRING"), std::string::npos);
  EXPECT_NE(SnowflakeSql("/var/lake").find("-- The lake is not on S3"), std::string::npos);
}

}  // namespace
}  // namespace furrow::warehouse
