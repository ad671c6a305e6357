#include "warehouse/postgres_warehouse.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <string>

#include "ping/test_servers.h"
#include "receiver/extract.h"
#include "receiver/sqlite_ping_store.h"
#include "sink/compressor.h"
#include "storage/local_object_store.h"
#include "warehouse/loader.h"
#include "warehouse/open_warehouse.h"

namespace furrow::warehouse {
namespace {

std::string PgQuery(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  EXPECT_EQ(PQstatus(conn), CONNECTION_OK);
  PGresult* res = PQexec(conn, sql.c_str());
  std::string out;
  if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) out = PQgetvalue(res, 0, 0);
  EXPECT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  return out;
}

TEST(CopyTextTest, EscapesSpecialCharacters) {
  std::string out;
  AppendCopyText(&out, "a\tb\\c\nd\re", false);
  EXPECT_EQ(out, "a\\tb\\\\c\\nd\\re");
  out.clear();
  AppendCopyText(&out, "", true);
  EXPECT_EQ(out, "\\N");
}

TEST(PostgresWarehouseTest, LoadsPingsAndEventsWithCopyOnceOnly) {
  ping::testing::PostgresTestServer pg;
  Status started = pg.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  ping::testing::TempDir dir;
  auto store = receiver::OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok());
  auto lake = storage::LocalObjectStore::Open(dir.path() + "/lake");
  ASSERT_TRUE(lake.ok());
  for (int i = 0; i < 4; ++i) {
    auto d = receiver::ParseUsageData(R"({"uuid":"u)" + std::to_string(i) +
                                          R"(","hostname":"tab\there","recorded_at":"r","counts":{"a\\b":)" +
                                          std::to_string(i) + R"(,"t":-1}})",
                                      {});
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_TRUE((*store)->StoreUsageData(*d, "", "2026-05-01T12:00:00.000Z").ok());
  }
  receiver::ExtractOptions eo;
  eo.rows_per_file = 3;
  ASSERT_TRUE(receiver::ExtractDay(**store, **lake, "2026-05-01", eo).ok());
  std::string row(130, '\t');
  row.insert(0, "app\\x");
  auto compressor = sink::Compressor::Create(sink::Compression::kZstd);
  ASSERT_TRUE(compressor->Append(row + "\n" + row + "\n").ok());
  ASSERT_TRUE(compressor->Finish().ok());
  ASSERT_TRUE((*lake)->Put("output/2026/05/01/12/part-1.tsv.zst", compressor->TakeOutput(), {}).ok());

  ManualClock clock;
  auto w = OpenWarehouse(pg.url(), dir.path(), clock);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto stats = LoadFromLake(**lake, **w, {});
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->files, 3);
  EXPECT_EQ(stats->pings, 4);
  EXPECT_EQ(stats->metric_rows, 8);
  EXPECT_EQ(stats->events, 2);
  EXPECT_EQ(PgQuery(pg.url(), "SELECT COUNT(*) FROM ping_instance WHERE hostname = E'tab\\there'"), "4");
  EXPECT_EQ(PgQuery(pg.url(), "SELECT SUM(metric_value) FROM ping_instance_metric WHERE metric_path = 'counts.a\\b'"),
            "6");
  EXPECT_EQ(PgQuery(pg.url(), "SELECT COUNT(*) FROM ping_instance_metric WHERE has_timed_out = 1 AND metric_value = 0"),
            "4");
  EXPECT_EQ(PgQuery(pg.url(), "SELECT COUNT(*) FROM events WHERE app_id = 'app\\x' AND platform IS NULL"), "2");

  auto again = LoadFromLake(**lake, **w, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files, 0);
  EXPECT_EQ(again->skipped_files, 3);
  // The same pings under another file name are deduplicated by id.
  auto copy = (*lake)->Get("pings/raw_usage_data/date=2026-05-01/00000000000000000001-00000000000000000003.jsonl.gz");
  ASSERT_TRUE(copy.ok());
  ASSERT_TRUE((*lake)->Put("pings/raw_usage_data/date=2026-05-02/00000000000000000001-00000000000000000003.jsonl.gz",
                           *copy, {})
                  .ok());
  auto dup = LoadFromLake(**lake, **w, {});
  ASSERT_TRUE(dup.ok()) << dup.status().ToString();
  EXPECT_EQ(dup->duplicate_pings, 3);
  EXPECT_EQ(PgQuery(pg.url(), "SELECT COUNT(*) FROM ping_instance_metric"), "8");
  EXPECT_EQ(PgQuery(pg.url(), "SELECT COUNT(*) FROM load_manifest"), "4");
}

}  // namespace
}  // namespace furrow::warehouse
