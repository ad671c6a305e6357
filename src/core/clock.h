// Clock: the source of time, injected so that tests never sleep on wall-clock time.
//
// Now() is wall-clock time (for timestamps written into data); Monotonic() is for
// measuring intervals and deadlines. Implementations are safe for concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace furrow {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Monotonic() const = 0;

  int64_t NowMillis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
  }
};

// The real clocks of the machine.
class SystemClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }

  // A process-wide instance, for wiring in src/app.
  static SystemClock& Instance();
};

// A clock that moves only when told to. Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(WallTime start = WallTime(std::chrono::milliseconds(1700000000000)))
      : wall_ns_(start.time_since_epoch().count()) {}

  WallTime Now() const override { return WallTime(WallTime::duration(wall_ns_.load())); }
  MonoTime Monotonic() const override {
    return MonoTime(std::chrono::duration_cast<MonoTime::duration>(
        std::chrono::nanoseconds(mono_ns_.load())));
  }
  void Advance(std::chrono::nanoseconds d) {
    wall_ns_ += std::chrono::duration_cast<WallTime::duration>(d).count();
    mono_ns_ += d.count();
  }
  void SetWall(WallTime t) { wall_ns_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> wall_ns_;
  std::atomic<int64_t> mono_ns_{0};
};

}  // namespace furrow
