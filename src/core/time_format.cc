#include "core/time_format.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace furrow {
namespace {

// Formats with std::chrono's civil calendar and hand-written digits: this runs for
// several timestamps of every event, where snprintf's format parsing was a visible cost.
std::string Format(int64_t epoch_ms, char date_time_sep, bool zulu) {
  using namespace std::chrono;
  constexpr int64_t kYear10000 = 253'402'300'800'000;  // 10000-01-01T00:00:00Z in ms
  if (epoch_ms < 0 || epoch_ms >= kYear10000) {
    // Outside 1970..9999 (untrusted device timestamps can be anything): the general,
    // slower path.
    int64_t secs = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
    int millis = static_cast<int>(epoch_ms - secs * 1000);
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d%c%02d:%02d:%02d.%03d%s", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, date_time_sep, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  millis, zulu ? "Z" : "");
    return buf;
  }
  const sys_time<milliseconds> tp{milliseconds{epoch_ms}};
  const sys_days day = floor<days>(tp);
  const year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  const int64_t ms_of_day = (tp - day).count();
  const int hour = static_cast<int>(ms_of_day / 3'600'000);
  const int minute = static_cast<int>(ms_of_day / 60'000 % 60);
  const int second = static_cast<int>(ms_of_day / 1000 % 60);
  const int millis = static_cast<int>(ms_of_day % 1000);
  char buf[24];
  auto put = [&buf](size_t at, int value, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      buf[at + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, y, 4);
  buf[4] = '-';
  put(5, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
  buf[7] = '-';
  put(8, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  buf[10] = date_time_sep;
  put(11, hour, 2);
  buf[13] = ':';
  put(14, minute, 2);
  buf[16] = ':';
  put(17, second, 2);
  buf[19] = '.';
  put(20, millis, 3);
  size_t n = 23;
  if (zulu) buf[n++] = 'Z';
  return std::string(buf, n);
}

bool ParseInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto r = std::from_chars(s.data() + pos, s.data() + pos + len, *out);
  return r.ec == std::errc();
}

}  // namespace

std::string FormatIso8601Millis(int64_t epoch_ms) { return Format(epoch_ms, 'T', true); }

std::string FormatSqlMillis(int64_t epoch_ms) { return Format(epoch_ms, ' ', false); }

std::optional<int64_t> ParseTimestampMillis(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  if (!ParseInt(s, 0, 4, &y) || !ParseInt(s, 5, 2, &mo) || !ParseInt(s, 8, 2, &d) ||
      !ParseInt(s, 11, 2, &h) || !ParseInt(s, 14, 2, &mi) || !ParseInt(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 3; ++k) millis *= 10;
  }
  if (pos < s.size() && s[pos] == 'Z') ++pos;
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&tm));
  return secs * 1000 + millis;
}

}  // namespace furrow
