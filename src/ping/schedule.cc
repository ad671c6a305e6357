#include "ping/schedule.h"

#include <openssl/sha.h>

#include <chrono>

namespace furrow::ping {
namespace {

int HashMod(const std::string& text, int mod) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  int r = 0;
  for (unsigned char b : digest) r = (r * 256 + b) % mod;
  return r;
}

}  // namespace

WeeklySlot SlotForInstallation(const std::string& uuid) {
  return WeeklySlot{HashMod(uuid, 7), HashMod(uuid + "hour", 24), HashMod(uuid + "minute", 60)};
}

WallTime LatestSlotAtOrBefore(const WeeklySlot& slot, WallTime t) {
  using namespace std::chrono;
  sys_days day = floor<days>(t);
  int today = static_cast<int>(weekday{day}.c_encoding());  // 0 = Sunday
  int back = (today - slot.weekday + 7) % 7;
  WallTime candidate = sys_days(day - days(back)) + hours(slot.hour) + minutes(slot.minute);
  if (candidate > t) candidate -= days(7);
  return candidate;
}

WallTime NextSlotAfter(const WeeklySlot& slot, WallTime t) {
  return LatestSlotAtOrBefore(slot, t) + std::chrono::days(7);
}

}  // namespace furrow::ping
