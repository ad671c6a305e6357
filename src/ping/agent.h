// Agent: the long-running Service Ping agent (`furrow ping agent`). Each Tick does
// what is due at the injected clock's time and says when to tick next, so the
// schedule is tested with a ManualClock and never waits.
//
// Due work, in order:
//   1. retries of payloads that failed to send, whose time has come (8/16/24 h);
//   2. the weekly ping: once the installation's slot (schedule.h) plus its splay
//      (0-60 s, given to the constructor) has passed and no generation ran since
//      24 hours before that slot, take the daily lock (at most one generation per 24 h, also
//      across restarts: it lives in AgentState), generate, store the payload, and
//      send it when ping is enabled.
// Settings (InstanceConfig): generation disabled -> nothing is generated; ping
// disabled -> payloads are generated and stored for export but not sent.
//
// Not thread-safe: one thread ticks. Errors from the state file are returned;
// generation and sending failures are recorded, not returned.
#pragma once

#include <functional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "ping/agent_state.h"
#include "ping/payload.h"
#include "ping/schedule.h"
#include "ping/submitter.h"

namespace furrow::ping {

struct AgentSettings {
  bool ping_enabled = true;
  bool generation_enabled = true;
};

struct TickReport {
  bool generated = false;
  bool sent = false;
  int retries_attempted = 0;
  WallTime next_tick;
};

class Agent {
 public:
  using Generate = std::function<Result<Payload>()>;
  // `submitter` may be null when ping is disabled. All references must outlive the agent.
  Agent(AgentState& state, Generate generate, Submitter* submitter, AgentSettings settings, std::string uuid,
        const Clock& clock, int splay_seconds);

  [[nodiscard]] Result<TickReport> Tick();

  WallTime CurrentSlot() const;  // latest slot (with splay) at or before now

 private:
  AgentState& state_;
  Generate generate_;
  Submitter* submitter_;
  AgentSettings settings_;
  std::string uuid_;
  WeeklySlot slot_;
  const Clock& clock_;
  std::chrono::seconds splay_;
};

}  // namespace furrow::ping
