#include "core/clock.h"

namespace furrow {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace furrow
