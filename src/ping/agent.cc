#include "ping/agent.h"

#include <algorithm>

#include <rapidjson/document.h>

#include "core/logging.h"

namespace furrow::ping {
namespace {

int64_t ToMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The sender fields of a stored payload, for the error report of a retry.
SenderIdentity SenderOf(const std::string& payload_json, const std::string& uuid) {
  SenderIdentity sender{uuid, "", ""};
  rapidjson::Document doc;
  doc.Parse(payload_json.c_str(), payload_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return sender;
  auto text = [&doc](const char* name) -> std::string {
    auto it = doc.FindMember(name);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  };
  sender.hostname = text("hostname");
  sender.version = text("version");
  return sender;
}

}  // namespace

Agent::Agent(AgentState& state, Generate generate, Submitter* submitter, AgentSettings settings, std::string uuid,
             const Clock& clock, int splay_seconds)
    : state_(state),
      generate_(std::move(generate)),
      submitter_(submitter),
      settings_(settings),
      uuid_(std::move(uuid)),
      slot_(SlotForInstallation(uuid_)),
      clock_(clock),
      splay_(std::clamp(splay_seconds, 0, 60)) {}

WallTime Agent::CurrentSlot() const { return LatestSlotAtOrBefore(slot_, clock_.Now() - splay_) + splay_; }

Result<TickReport> Agent::Tick() {
  TickReport report;
  const WallTime now = clock_.Now();

  if (settings_.ping_enabled && submitter_ != nullptr) {
    FURROW_ASSIGN_OR_RETURN(std::vector<PingRecord> due, state_.DueRetries(ToMillis(now)));
    for (const auto& record : due) {
      ++report.retries_attempted;
      SenderIdentity sender = SenderOf(record.payload, uuid_);
      FURROW_ASSIGN_OR_RETURN(SubmitOutcome outcome, DeliverPing(state_, *submitter_, record, sender, clock_));
      (void)outcome;
    }
  }

  const WallTime slot = CurrentSlot();
  if (settings_.generation_enabled) {
    FURROW_ASSIGN_OR_RETURN(std::optional<int64_t> last_run, state_.LastRun());
    // A generation within the 24 hours before the slot counts as this slot's.
    bool due = !last_run || *last_run + 24LL * 3600 * 1000 <= ToMillis(slot);
    if (due) {
      FURROW_ASSIGN_OR_RETURN(bool locked, state_.TryAcquireDailyLock(ToMillis(now)));
      if (!locked) {
        log::Info("service ping skipped: one ran in the last 24 hours");
      } else {
        Result<Payload> payload = generate_();
        if (!payload.ok()) {
          log::Error("service ping generation failed", {{"error", payload.status().ToString()}});
        } else {
          PingRecord record;
          record.recorded_at_ms = payload->recorded_at_ms;
          record.recorded_at = payload->recorded_at;
          record.payload = payload->json;
          record.metadata = MetadataJson(*payload);
          FURROW_RETURN_IF_ERROR(state_.Save(record));
          report.generated = true;
          if (settings_.ping_enabled && submitter_ != nullptr) {
            SenderIdentity sender{payload->uuid, payload->hostname, payload->version};
            FURROW_ASSIGN_OR_RETURN(SubmitOutcome outcome, DeliverPing(state_, *submitter_, record, sender, clock_));
            report.sent = outcome.ok;
          }
        }
      }
    }
  }

  WallTime next = NextSlotAfter(slot_, now - splay_) + splay_;
  if (settings_.ping_enabled) {
    FURROW_ASSIGN_OR_RETURN(std::optional<int64_t> retry, state_.NextRetryTime());
    if (retry) next = std::min(next, WallTime(std::chrono::milliseconds(*retry)));
  }
  report.next_tick = std::max(next, now);
  return report;
}

}  // namespace furrow::ping
