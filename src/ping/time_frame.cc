#include "ping/time_frame.h"

#include <chrono>
#include <cstdio>

namespace furrow::ping {
namespace {

using Days = std::chrono::days;

std::chrono::sys_days FloorDay(WallTime t) { return std::chrono::floor<Days>(t); }

}  // namespace

std::optional<TimeWindow> DatabaseWindow(WallTime now, TimeFrame frame) {
  switch (frame) {
    case TimeFrame::k28d: return TimeWindow{now - Days(30), now - Days(2)};
    case TimeFrame::k7d: return TimeWindow{now - Days(9), now - Days(2)};
    case TimeFrame::kAll:
    case TimeFrame::kNone: return std::nullopt;
  }
  return std::nullopt;
}

std::string IsoWeekSuffix(WallTime t) {
  std::chrono::sys_days day = FloorDay(t);
  std::chrono::weekday wd{day};
  // ISO weekday: Monday = 1 ... Sunday = 7; the Thursday of the same week decides the year.
  int iso = static_cast<int>(wd.iso_encoding());
  std::chrono::sys_days thursday = day + Days(4 - iso);
  std::chrono::year_month_day ymd{thursday};
  std::chrono::sys_days jan1 = std::chrono::sys_days{ymd.year() / std::chrono::January / 1};
  int week = static_cast<int>((thursday - jan1).count() / 7) + 1;
  // Room for any int year and week, so the format can never truncate.
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d", static_cast<int>(ymd.year()), week);
  return buffer;
}

std::vector<std::string> CompletedWeekSuffixes(WallTime now, TimeFrame frame) {
  int weeks = frame == TimeFrame::k7d ? 1 : frame == TimeFrame::k28d ? 4 : 0;
  std::vector<std::string> out;
  for (int i = 1; i <= weeks; ++i) out.push_back(IsoWeekSuffix(now - Days(7 * i)));
  return out;
}

std::string FormatSqlTimestamp(WallTime t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  std::chrono::sys_days day = std::chrono::floor<Days>(secs);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{secs - day};
  char buffer[80];  // room for any int fields, so the format can never truncate
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buffer;
}

}  // namespace furrow::ping
