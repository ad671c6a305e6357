#include "receiver/extract.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ping/test_servers.h"
#include "receiver/sqlite_ping_store.h"
#include "sink/compressor.h"
#include "storage/local_object_store.h"

namespace furrow::receiver {
namespace {

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqlitePingStore(dir_.path() + "/receiver.sqlite");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto lake = storage::LocalObjectStore::Open(dir_.path() + "/lake");
    ASSERT_TRUE(lake.ok());
    lake_ = std::move(*lake);
  }
  void Add(const std::string& uuid, const std::string& created_at) {
    auto d = ParseUsageData(R"({"uuid":")" + uuid + R"(","recorded_at":"r","counts":{"a":1}})", {});
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE(store_->StoreUsageData(*d, "127.0.0.1", created_at).ok());
  }
  std::vector<std::string> Keys(const std::string& prefix) {
    std::vector<std::string> keys;
    auto list = lake_->List(prefix);
    EXPECT_TRUE(list.ok());
    for (const auto& info : *list) keys.push_back(info.key);
    return keys;
  }

  ping::testing::TempDir dir_;
  std::unique_ptr<PingStore> store_;
  std::unique_ptr<storage::LocalObjectStore> lake_;
};

TEST_F(ExtractTest, WritesOneDaysRowsInIdRangesAndIsIdempotent) {
  Add("a", "2026-03-01T23:00:00.000Z");
  Add("b", "2026-03-02T01:00:00.000Z");
  Add("c", "2026-03-02T02:00:00.000Z");
  Add("d", "2026-03-02T03:00:00.000Z");
  Add("e", "2026-03-03T00:00:00.000Z");
  ExtractOptions options;
  options.rows_per_file = 2;
  auto stats = ExtractDay(*store_, *lake_, "2026-03-02", options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  // raw_usage_data and usage_data: 3 rows each in files of 2 and 1.
  EXPECT_EQ(stats->rows, 6);
  EXPECT_EQ(stats->files, 4);
  EXPECT_EQ(Keys("pings/raw_usage_data/"),
            (std::vector<std::string>{
                "pings/raw_usage_data/date=2026-03-02/00000000000000000002-00000000000000000003.jsonl.gz",
                "pings/raw_usage_data/date=2026-03-02/00000000000000000004-00000000000000000004.jsonl.gz"}));
  auto object = lake_->Get("pings/raw_usage_data/date=2026-03-02/00000000000000000002-00000000000000000003.jsonl.gz");
  ASSERT_TRUE(object.ok());
  auto text = sink::Decompress(sink::Compression::kGzip, *object);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find(R"("uuid":"b")"), std::string::npos);
  EXPECT_NE(text->find(R"("uuid":"c")"), std::string::npos);
  EXPECT_EQ(text->find(R"("uuid":"a")"), std::string::npos);

  auto again = ExtractDay(*store_, *lake_, "2026-03-02", options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rows, 0);
  EXPECT_EQ(again->files, 0);

  // A row arriving later that day goes into a new file after the watermark.
  Add("f", "2026-03-02T23:59:59.999Z");
  auto later = ExtractDay(*store_, *lake_, "2026-03-02", options);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->rows, 2);
  EXPECT_EQ(Keys("pings/raw_usage_data/").back(),
            "pings/raw_usage_data/date=2026-03-02/00000000000000000006-00000000000000000006.jsonl.gz");
}

TEST_F(ExtractTest, RejectsMalformedDates) {
  EXPECT_EQ(ExtractDay(*store_, *lake_, "2026-13-01").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ExtractDay(*store_, *lake_, "yesterday").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UtcDate(0), "1970-01-01");
  EXPECT_EQ(*NextDate("2024-02-28"), "2024-02-29");
  EXPECT_EQ(*NextDate("2026-12-31"), "2027-01-01");
}

}  // namespace
}  // namespace furrow::receiver
