// Time windows of Service Ping time frames, as GitLab computes them.
//
// Database metrics (skewed for batch counting, so that the window is complete):
//   28d = created in [now - 30 days, now - 2 days), 7d = [now - 9 days, now - 2 days),
//   all and none = no filter.
// Redis HLL and internal events keep one key per ISO week (suffix "-YYYY-WW");
//   7d  = the last completed ISO week, 28d = the last 4 completed ISO weeks.
// Pure functions of their arguments; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "ping/metric_definition.h"

namespace furrow::ping {

struct TimeWindow {
  WallTime start;  // inclusive
  WallTime end;    // exclusive
};

// The created_at window of a database metric; nullopt for all / none.
std::optional<TimeWindow> DatabaseWindow(WallTime now, TimeFrame frame);

// "YYYY-WW": the ISO week-numbering year and week of `t` (UTC), e.g. "2026-48".
std::string IsoWeekSuffix(WallTime t);

// The week suffixes a 7d (1 week) or 28d (4 weeks) unique count reads: the
// completed ISO weeks before the week of `now`, most recent first. Empty for all/none.
std::vector<std::string> CompletedWeekSuffixes(WallTime now, TimeFrame frame);

// 'YYYY-MM-DD HH:MM:SS' in UTC (SQLite's and PostgreSQL's timestamp literal form).
std::string FormatSqlTimestamp(WallTime t);

}  // namespace furrow::ping
