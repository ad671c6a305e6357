#include "ping/usage_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/time_format.h"
#include "ping/test_servers.h"

namespace furrow::ping {
namespace {

using ::testing::HasSubstr;

WallTime At(const char* text) { return WallTime(std::chrono::milliseconds(*ParseTimestampMillis(text))); }

// 2026-11-25 is in ISO week 48: 7d reads week 47 (Nov 16-22), 28d weeks 44-47
// (Oct 26 - Nov 22).
const char* kNow = "2026-11-25 10:00:00";

MetricDefinition Parse(const std::string& yaml) {
  std::string text = "description: d\nproduct_group: g\nvalue_type: number\nstatus: active\nmilestone: '17.0'\n"
                     "introduced_by_url: u\ntiers: [free]\n" + yaml;
  auto d = ParseMetricDefinition("t.yml", text);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : MetricDefinition{};
}

struct Event {
  const char* name;
  const char* at;
  const char* user;
  const char* label;
  std::optional<double> value;
};

class UsageEventsTest : public ::testing::Test {
 protected:
  void Exercise(UsageStore& store) {
    std::vector<MetricDefinition> defs = {
        Parse("key_path: counts.create_issue\ntime_frame: [7d, 28d, all]\ndata_source: internal_events\n"
              "events:\n- name: create_issue\n"),
        Parse("key_path: counts.create_issue_users\ntime_frame: [7d, 28d]\ndata_source: internal_events\n"
              "events:\n- name: create_issue\n  unique: user.id\n"),
        Parse("key_path: sums.failed_time\ntime_frame: [7d, 28d, all]\ndata_source: internal_events\n"
              "events:\n- name: cli_used\n  filter:\n    label: failure\n  operator: sum(value)\n"),
        Parse("key_path: sums.all_time\ntime_frame: all\ndata_source: internal_events\n"
              "events:\n- name: cli_used\n  operator: sum(value)\n"),
        Parse("key_path: redis_hll_counters.issues_monthly\ntime_frame: 28d\ndata_source: redis_hll\n"
              "instrumentation_class: RedisHLLMetric\noptions:\n  events: [create_issue, close_issue]\n"),
        Parse("key_path: redis_hll_counters.issues_weekly\ntime_frame: 7d\ndata_source: redis_hll\n"
              "instrumentation_class: RedisHLLMetric\noptions:\n  events: [create_issue, close_issue]\n"),
        Parse("key_path: counts.kube_sync\ntime_frame: all\ndata_source: redis\ninstrumentation_class: RedisMetric\n"
              "options:\n  prefix: kubernetes_agent\n  event: gitops_sync\n"),
    };
    ManualClock clock;
    EventRecorder recorder(store, defs, clock);
    std::vector<Event> events = {
        {"create_issue", "2026-11-17 08:00:00", "u1", nullptr, std::nullopt},
        {"create_issue", "2026-11-18 08:00:00", "u2", nullptr, std::nullopt},
        {"create_issue", "2026-11-10 08:00:00", "u1", nullptr, std::nullopt},
        {"create_issue", "2026-10-27 08:00:00", "u3", nullptr, std::nullopt},
        {"create_issue", "2026-10-20 08:00:00", "u4", nullptr, std::nullopt},  // week 43: outside 28d
        {"create_issue", "2026-11-24 08:00:00", "u5", nullptr, std::nullopt},  // week 48: not completed
        {"close_issue", "2026-11-19 08:00:00", "u9", nullptr, std::nullopt},
        {"cli_used", "2026-11-19 08:00:00", "u1", "failure", 2.5},
        {"cli_used", "2026-11-19 09:00:00", "u1", "success", 1},
        {"cli_used", "2026-11-03 09:00:00", "u2", "failure", 4},
    };
    for (const auto& e : events) {
      clock.SetWall(At(e.at));
      TrackedEvent t;
      t.name = e.name;
      t.user_id = e.user;
      if (e.label != nullptr) t.properties["label"] = e.label;
      t.value = e.value;
      Status tracked = recorder.Track(t);
      ASSERT_TRUE(tracked.ok()) << tracked.ToString();
    }
    ASSERT_TRUE(store.Increment("USAGE_KUBERNETES_AGENT_GITOPS_SYNC", 3, std::nullopt).ok());

    WallTime now = At(kNow);
    auto value = [&](size_t def, TimeFrame frame) {
      auto v = ComputeUsageMetric(store, defs[def], frame, now);
      EXPECT_TRUE(v.ok()) << v.status().ToString();
      return v.ok() ? *v : -1;
    };
    EXPECT_EQ(value(0, TimeFrame::k7d), 2);
    EXPECT_EQ(value(0, TimeFrame::k28d), 4);
    EXPECT_EQ(value(0, TimeFrame::kAll), 6);
    EXPECT_EQ(value(1, TimeFrame::k7d), 2);   // u1, u2
    EXPECT_EQ(value(1, TimeFrame::k28d), 3);  // u1, u2, u3
    EXPECT_EQ(value(2, TimeFrame::k7d), 2.5);
    EXPECT_EQ(value(2, TimeFrame::k28d), 6.5);
    EXPECT_EQ(value(2, TimeFrame::kAll), 6.5);
    EXPECT_EQ(value(3, TimeFrame::kAll), 7.5);
    EXPECT_EQ(value(4, TimeFrame::k28d), 4);  // u1 u2 u3 u9
    EXPECT_EQ(value(5, TimeFrame::k7d), 3);   // u1 u2 u9
    EXPECT_EQ(value(6, TimeFrame::kAll), 3);
  }
};

TEST_F(UsageEventsTest, CountsUniquesAndSumsInRedis) {
  testing::RedisTestServer redis;
  ASSERT_TRUE(redis.Start().ok());
  auto store = OpenRedisUsageStore(redis.url());
  ASSERT_TRUE(store.ok());
  Exercise(**store);
  EXPECT_EQ((*store)->kind(), "redis");
}

TEST_F(UsageEventsTest, CountsUniquesAndSumsInTheEmbeddedStore) {
  testing::TempDir dir;
  ManualClock clock(At(kNow));
  auto store = OpenEmbeddedUsageStore(dir.path() + "/usage.db", clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Exercise(**store);
}

TEST_F(UsageEventsTest, RejectsMalformedEvents) {
  testing::TempDir dir;
  ManualClock clock;
  auto store = OpenEmbeddedUsageStore(dir.path() + "/usage.db", clock);
  ASSERT_TRUE(store.ok());
  EventRecorder recorder(**store, {}, clock);
  TrackedEvent bad;
  bad.name = "bad name with spaces";
  EXPECT_EQ(recorder.Track(bad).code(), StatusCode::kInvalidArgument);
  TrackedEvent empty;
  EXPECT_EQ(recorder.Track(empty).code(), StatusCode::kInvalidArgument);
  TrackedEvent long_user;
  long_user.name = "ok";
  long_user.user_id = std::string(500, 'a');
  EXPECT_EQ(recorder.Track(long_user).code(), StatusCode::kInvalidArgument);
}

TEST_F(UsageEventsTest, UnreachableRedisIsUnavailable) {
  auto store = OpenRedisUsageStore("redis://127.0.0.1:" + std::to_string(testing::FreePort()));
  ASSERT_TRUE(store.ok());
  auto v = (*store)->Get("x");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(OpenRedisUsageStore("http://x").ok());
  EXPECT_FALSE(OpenRedisUsageStore("redis://host:99999").ok());
}

TEST_F(UsageEventsTest, KeysFollowGitLabNaming) {
  MetricDefinition d;
  d.options = {{"prefix", "kubernetes_agent"}, {"event", "gitops_sync"}};
  EXPECT_EQ(RedisMetricKey(d), "USAGE_KUBERNETES_AGENT_GITOPS_SYNC");
  EXPECT_EQ(UniqueKeyPrefix("create_issue", {}, "user.id"), "{hll_counters}_create_issue");
  EXPECT_EQ(CounterKey("cli_used", {{"label", "failure"}}), "{event_counters}_cli_used-filter:[label=failure]");
}

}  // namespace
}  // namespace furrow::ping
