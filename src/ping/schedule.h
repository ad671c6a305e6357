// The weekly Service Ping slot of an installation, derived from its uuid as GitLab
// does, so that installations spread over the week:
//   minute  = SHA-256(uuid + "minute") mod 60
//   hour    = SHA-256(uuid + "hour")   mod 24
//   weekday = SHA-256(uuid)            mod 7   (0 = Sunday, as in cron)
// where the hash is read as one big-endian 256-bit integer. Times are UTC.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "core/clock.h"

namespace furrow::ping {

struct WeeklySlot {
  int weekday = 0;  // 0 = Sunday ... 6 = Saturday
  int hour = 0;
  int minute = 0;
};

WeeklySlot SlotForInstallation(const std::string& uuid);

// The latest slot time <= t.
WallTime LatestSlotAtOrBefore(const WeeklySlot& slot, WallTime t);
// The earliest slot time > t.
WallTime NextSlotAfter(const WeeklySlot& slot, WallTime t);

}  // namespace furrow::ping
