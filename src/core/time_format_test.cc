#include "core/time_format.h"

#include <gtest/gtest.h>

namespace furrow {
namespace {

TEST(TimeFormatTest, FormatsMillis) {
  EXPECT_EQ(FormatIso8601Millis(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatSqlMillis(1700000000123), "2023-11-14 22:13:20.123");
  EXPECT_EQ(FormatSqlMillis(0), "1970-01-01 00:00:00.000");
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
