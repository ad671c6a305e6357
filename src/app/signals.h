// Shutdown signals. BlockTerminationSignals() must run in main() before any thread
// starts, so that every thread inherits the mask and SIGTERM/SIGINT are delivered
// only to the thread that waits for them.
#pragma once

#include <chrono>

namespace furrow::app {

void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT; returns the signal number.
int WaitForTerminationSignal();

}  // namespace furrow::app
