// When the receiver's own jobs run: the daily extract at a time of day, the weekly
// warehouse load (and the weekly pull) at a weekday and time of day, all in UTC.
//
// ParseTimeOfDay("HH:MM") and ParseWeekday("sunday".."saturday" or "sun".."sat")
// return kInvalidArgument for anything else. NextDaily/NextWeekly return the first
// instant strictly after `now` at that slot. Pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace furrow::receiver {

// Minutes after midnight UTC.
[[nodiscard]] Result<int> ParseTimeOfDay(const std::string& text);
// 0 = Sunday .. 6 = Saturday.
[[nodiscard]] Result<int> ParseWeekday(const std::string& text);

int64_t NextDailyMillis(int64_t now_ms, int minute_of_day);
int64_t NextWeeklyMillis(int64_t now_ms, int weekday, int minute_of_day);

}  // namespace furrow::receiver
