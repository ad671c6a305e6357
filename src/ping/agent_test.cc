#include "ping/agent.h"

#include <gmock/gmock.h>
#include <atomic>
#include <gtest/gtest.h>

#include "core/time_format.h"
#include "ping/test_servers.h"

namespace furrow::ping {
namespace {

WallTime At(const char* text) { return WallTime(std::chrono::milliseconds(*ParseTimestampMillis(text))); }

TEST(ScheduleTest, SlotIsDerivedFromTheUuidHashes) {
  // Values computed independently: python3 -c "import hashlib;
  //   h=lambda s:int(hashlib.sha256(s.encode()).hexdigest(),16);
  //   u='2b8e1f3c-6a8e-4d1c-9c63-6f1a2b3c4d5e'; print(h(u)%7, h(u+'hour')%24, h(u+'minute')%60)"
  WeeklySlot slot = SlotForInstallation("2b8e1f3c-6a8e-4d1c-9c63-6f1a2b3c4d5e");
  EXPECT_EQ(slot.weekday, 3);
  EXPECT_EQ(slot.hour, 10);
  EXPECT_EQ(slot.minute, 32);
}

TEST(ScheduleTest, LatestAndNextSlotsAreAWeekApart) {
  WeeklySlot slot{3, 14, 30};  // Wednesday 14:30
  WallTime now = At("2026-11-25 10:00:00");  // a Wednesday, before the slot
  EXPECT_EQ(LatestSlotAtOrBefore(slot, now), At("2026-11-18 14:30:00"));
  EXPECT_EQ(NextSlotAfter(slot, now), At("2026-11-25 14:30:00"));
  EXPECT_EQ(LatestSlotAtOrBefore(slot, At("2026-11-25 14:30:00")), At("2026-11-25 14:30:00"));
  EXPECT_EQ(NextSlotAfter(slot, At("2026-11-25 14:30:00")), At("2026-12-02 14:30:00"));
  WeeklySlot sunday{0, 0, 0};
  EXPECT_EQ(LatestSlotAtOrBefore(sunday, now), At("2026-11-22 00:00:00"));
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto state = AgentState::Open(dir_.path());
    ASSERT_TRUE(state.ok());
    state_ = std::move(state).value();
    slot_ = SlotForInstallation(kUuid);
  }

  Agent::Generate Generator() {
    return [this]() -> Result<Payload> {
      ++generated_;
      Payload p;
      p.uuid = kUuid;
      p.recorded_at_ms = clock_.NowMillis();
      p.recorded_at = FormatIso8601Millis(p.recorded_at_ms);
      p.json = "{\"uuid\":\"" + std::string(kUuid) + "\",\"n\":" + std::to_string(generated_) + "}";
      return p;
    };
  }

  static constexpr const char* kUuid = "2b8e1f3c-6a8e-4d1c-9c63-6f1a2b3c4d5e";
  testing::TempDir dir_;
  ManualClock clock_{At("2026-11-01 00:00:00")};
  std::unique_ptr<AgentState> state_;
  WeeklySlot slot_;
  int generated_ = 0;
};

TEST_F(AgentTest, SendsOnceAtTheWeeklySlotPlusSplayAndNotAgainAcrossRestarts) {
  testing::TestReceiver receiver([](const testing::ReceivedRequest& r) -> testing::ScriptedResponse {
    return {201, R"({"conv_index":{"usage_data_id":5}})"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  net::HttpClient client;
  Submitter submitter(client, receiver.url(), clock_);
  const int splay = 42;

  // Start just after a slot passed: the first tick catches up with it.
  WallTime slot_time = NextSlotAfter(slot_, clock_.Now()) + std::chrono::seconds(splay);
  clock_.SetWall(slot_time - std::chrono::seconds(1));
  {
    Agent agent(*state_, Generator(), &submitter, AgentSettings{}, kUuid, clock_, splay);
    auto tick = agent.Tick();
    ASSERT_TRUE(tick.ok());
    EXPECT_TRUE(tick->generated);  // the previous week's slot had not run yet
    EXPECT_TRUE(tick->sent);
    EXPECT_EQ(tick->next_tick, slot_time);
    // A second before the slot nothing more happens; the daily lock holds at the slot.
    clock_.SetWall(slot_time);
    tick = agent.Tick();
    ASSERT_TRUE(tick.ok());
    EXPECT_FALSE(tick->generated);
    EXPECT_EQ(tick->next_tick, slot_time + std::chrono::hours(24 * 7));
  }
  EXPECT_EQ(generated_, 1);

  // Next week, a restarted agent sends once at the slot plus splay, not before.
  WallTime next_slot = slot_time + std::chrono::hours(24 * 7);
  clock_.SetWall(next_slot - std::chrono::seconds(5));
  Agent restarted(*state_, Generator(), &submitter, AgentSettings{}, kUuid, clock_, splay);
  auto before = restarted.Tick();
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->generated);
  EXPECT_EQ(before->next_tick, next_slot);
  clock_.SetWall(next_slot);
  auto at = restarted.Tick();
  ASSERT_TRUE(at.ok());
  EXPECT_TRUE(at->generated);
  EXPECT_TRUE(at->sent);
  Agent again(*state_, Generator(), &submitter, AgentSettings{}, kUuid, clock_, splay);
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_FALSE(again.Tick()->generated);
  EXPECT_EQ(generated_, 2);

  auto list = state_->List();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].usage_data_id, 5);
  EXPECT_EQ(receiver.requests().size(), 4u);  // two payloads, two metadata
}

TEST_F(AgentTest, PingDisabledStoresPayloadsWithoutSending) {
  AgentSettings settings;
  settings.ping_enabled = false;
  Agent agent(*state_, Generator(), nullptr, settings, kUuid, clock_, 0);
  auto tick = agent.Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_TRUE(tick->generated);
  EXPECT_FALSE(tick->sent);
  auto list = state_->List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_FALSE((*list)[0].sent_at_ms.has_value());
  EXPECT_FALSE((*list)[0].next_attempt_ms.has_value());
}

TEST_F(AgentTest, GenerationDisabledDoesNothing) {
  AgentSettings settings;
  settings.generation_enabled = false;
  Agent agent(*state_, Generator(), nullptr, settings, kUuid, clock_, 0);
  auto tick = agent.Tick();
  ASSERT_TRUE(tick.ok());
  EXPECT_FALSE(tick->generated);
  EXPECT_EQ(generated_, 0);
  EXPECT_TRUE(state_->List()->empty());
}

TEST_F(AgentTest, FailedSendsAreRetriedByLaterTicks) {
  std::atomic<int> calls{0};
  testing::TestReceiver receiver([&calls](const testing::ReceivedRequest& r) -> testing::ScriptedResponse {
    if (r.target != "/usage_data") return {200, "{}"};
    return ++calls == 1 ? testing::ScriptedResponse{503, "{}"}
                        : testing::ScriptedResponse{201, R"({"conv_index":{"usage_data_id":77}})"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  net::HttpClient client;
  Submitter submitter(client, receiver.url(), clock_);
  Agent agent(*state_, Generator(), &submitter, AgentSettings{}, kUuid, clock_, 0);
  auto first = agent.Tick();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->generated);
  EXPECT_FALSE(first->sent);
  WallTime retry_at = clock_.Now() + std::chrono::hours(8);
  EXPECT_EQ(first->next_tick, retry_at);
  clock_.SetWall(retry_at);
  auto second = agent.Tick();
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->retries_attempted, 1);
  auto list = state_->List();
  EXPECT_EQ((*list)[0].usage_data_id, 77);
  EXPECT_EQ((*list)[0].attempts, 2);
}

}  // namespace
}  // namespace furrow::ping
