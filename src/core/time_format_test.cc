#include "core/time_format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace furrow {
namespace {

TEST(TimeFormatTest, FormatsMillis) {
  EXPECT_EQ(FormatIso8601Millis(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatSqlMillis(1700000000123), "2023-11-14 22:13:20.123");
  EXPECT_EQ(FormatSqlMillis(0), "1970-01-01 00:00:00.000");
}

// The hand-written formatter agrees with gmtime_r + snprintf everywhere: across
// leap years, month and day ends, both sides of the fast path's range, and before 1970.
TEST(TimeFormatTest, AgreesWithGmtimeAcrossTheCalendar) {
  auto reference = [](int64_t ms) {
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms - secs * 1000));
    return std::string(buf);
  };
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> any(-2'000'000'000'000, 260'000'000'000'000);
  for (int i = 0; i < 200000; ++i) {
    const int64_t ms = any(random);
    ASSERT_EQ(FormatSqlMillis(ms), reference(ms)) << ms;
  }
  for (int64_t ms : {int64_t{951782400000} - 1, int64_t{951782400000}, int64_t{951868799999},  // 2000-02-29
                     int64_t{253402300799999}, int64_t{253402300800000}, int64_t{-1}, int64_t{86399999}}) {
    EXPECT_EQ(FormatSqlMillis(ms), reference(ms)) << ms;
  }
  EXPECT_EQ(FormatIso8601Millis(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(TimeFormatTest, ParsesBothSeparatorsAndFractions) {
  EXPECT_EQ(ParseTimestampMillis("2023-11-14 22:13:20.123"), 1700000000123);
  EXPECT_EQ(ParseTimestampMillis("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(ParseTimestampMillis("2023-11-14T22:13:20.1Z"), 1700000000100);
}

TEST(TimeFormatTest, RejectsMalformed) {
  EXPECT_FALSE(ParseTimestampMillis("2023-11-14"));
  EXPECT_FALSE(ParseTimestampMillis("2023-13-14 22:13:20"));
  EXPECT_FALSE(ParseTimestampMillis("2023-11-14 22:13:20.x"));
  EXPECT_FALSE(ParseTimestampMillis("2023-11-14 22:13:20 trailing"));
}

}  // namespace
}  // namespace furrow
