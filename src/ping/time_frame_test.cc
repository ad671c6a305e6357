#include "ping/time_frame.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace furrow::ping {
namespace {

WallTime At(const char* text) { return WallTime(std::chrono::milliseconds(*ParseTimestampMillis(text))); }

TEST(TimeFrameTest, IsoWeeksFollowTheThursdayRule) {
  EXPECT_EQ(IsoWeekSuffix(At("2026-11-25 10:00:00")), "2026-48");
  EXPECT_EQ(IsoWeekSuffix(At("2021-01-03 23:59:59")), "2020-53");  // Sunday of 2020's last week
  EXPECT_EQ(IsoWeekSuffix(At("2021-01-04 00:00:00")), "2021-01");  // Monday
  EXPECT_EQ(IsoWeekSuffix(At("2024-12-30 12:00:00")), "2025-01");  // Monday in 2025's week 1
  EXPECT_EQ(IsoWeekSuffix(At("2026-01-01 00:00:00")), "2026-01");
}

TEST(TimeFrameTest, CompletedWeeksExcludeTheCurrentWeek) {
  WallTime now = At("2026-11-25 10:00:00");  // week 48
  EXPECT_EQ(CompletedWeekSuffixes(now, TimeFrame::k7d), (std::vector<std::string>{"2026-47"}));
  EXPECT_EQ(CompletedWeekSuffixes(now, TimeFrame::k28d),
            (std::vector<std::string>{"2026-47", "2026-46", "2026-45", "2026-44"}));
  EXPECT_TRUE(CompletedWeekSuffixes(now, TimeFrame::kAll).empty());
}

TEST(TimeFrameTest, DatabaseWindowsAreSkewedByTwoDays) {
  WallTime now = At("2026-11-25 10:00:00");
  auto w28 = DatabaseWindow(now, TimeFrame::k28d);
  ASSERT_TRUE(w28.has_value());
  EXPECT_EQ(FormatSqlTimestamp(w28->start), "2026-10-26 10:00:00");
  EXPECT_EQ(FormatSqlTimestamp(w28->end), "2026-11-23 10:00:00");
  auto w7 = DatabaseWindow(now, TimeFrame::k7d);
  ASSERT_TRUE(w7.has_value());
  EXPECT_EQ(FormatSqlTimestamp(w7->start), "2026-11-16 10:00:00");
  EXPECT_FALSE(DatabaseWindow(now, TimeFrame::kAll).has_value());
  EXPECT_FALSE(DatabaseWindow(now, TimeFrame::kNone).has_value());
}

}  // namespace
}  // namespace furrow::ping
