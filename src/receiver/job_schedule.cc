#include "receiver/job_schedule.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace furrow::receiver {
namespace {
constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }
}  // namespace

Result<int> ParseTimeOfDay(const std::string& text) {
  int h = 0;
  int m = 0;
  char tail = 0;
  if (text.size() != 5 || std::sscanf(text.c_str(), "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 ||
      m > 59) {
    return InvalidArgumentError("time of day must be HH:MM (UTC), got \"" + text + "\"");
  }
  return h * 60 + m;
}

Result<int> ParseWeekday(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* const kNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  for (int i = 0; i < 7; ++i) {
    std::string name = kNames[i];
    if (lower == name || lower == name.substr(0, 3)) return i;
  }
  return InvalidArgumentError("weekday must be sunday..saturday, got \"" + text + "\"");
}

int64_t NextDailyMillis(int64_t now_ms, int minute_of_day) {
  int64_t day_start = FloorDiv(now_ms, kDayMs) * kDayMs;
  int64_t at = day_start + minute_of_day * kMinuteMs;
  return at > now_ms ? at : at + kDayMs;
}

int64_t NextWeeklyMillis(int64_t now_ms, int weekday, int minute_of_day) {
  int64_t at = NextDailyMillis(now_ms, minute_of_day);
  // 1970-01-01 was a Thursday (4).
  while ((FloorDiv(at, kDayMs) + 4) % 7 != weekday) at += kDayMs;
  return at;
}

}  // namespace furrow::receiver
