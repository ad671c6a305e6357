#include "receiver/job_schedule.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace furrow::receiver {
namespace {

int64_t At(const char* iso) { return *ParseTimestampMillis(iso); }

TEST(JobScheduleTest, ParsesTimesAndWeekdays) {
  EXPECT_EQ(*ParseTimeOfDay("01:30"), 90);
  EXPECT_FALSE(ParseTimeOfDay("24:00").ok());
  EXPECT_FALSE(ParseTimeOfDay("1:30").ok());
  EXPECT_EQ(*ParseWeekday("Sunday"), 0);
  EXPECT_EQ(*ParseWeekday("sat"), 6);
  EXPECT_FALSE(ParseWeekday("someday").ok());
}

TEST(JobScheduleTest, NextDailyIsStrictlyAfterNow) {
  EXPECT_EQ(FormatIso8601Millis(NextDailyMillis(At("2026-11-25T00:30:00Z"), 60)), "2026-11-25T01:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(NextDailyMillis(At("2026-11-25T01:00:00Z"), 60)), "2026-11-26T01:00:00.000Z");
}

TEST(JobScheduleTest, NextWeeklyLandsOnTheWeekday) {
  // 2026-11-25 is a Wednesday; the next Sunday 02:00 is 2026-11-29.
  EXPECT_EQ(FormatIso8601Millis(NextWeeklyMillis(At("2026-11-25T10:00:00Z"), 0, 120)), "2026-11-29T02:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(NextWeeklyMillis(At("2026-11-29T02:00:00Z"), 0, 120)), "2026-12-06T02:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(NextWeeklyMillis(At("2026-11-25T01:00:00Z"), 3, 120)), "2026-11-25T02:00:00.000Z");
}

}  // namespace
}  // namespace furrow::receiver
