#include "ping/metric_definition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "ping/test_servers.h"

namespace furrow::ping {
namespace {

using ::testing::HasSubstr;

constexpr const char* kValid = R"(---
key_path: counts.issues
description: Count of issues
product_group: project_management
value_type: number
status: active
time_frame: all
data_source: database
data_category: optional
instrumentation_class: DatabaseMetric
options:
  operation: count
  relation: issues
milestone: "16.0"
introduced_by_url: https://example.com/mr/1
tiers: [free]
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) ADD_FAILURE() << "fixture lacks " << from;
  else text.replace(at, from.size(), to);
  return text;
}

TEST(MetricDefinitionTest, ParsesAValidDatabaseMetric) {
  Result<MetricDefinition> d = ParseMetricDefinition("a.yml", kValid);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->key_path, "counts.issues");
  EXPECT_EQ(d->instrumentation, Instrumentation::kDatabase);
  EXPECT_EQ(d->data_category, DataCategory::kOptional);
  EXPECT_EQ(d->Option("relation"), "issues");
  ASSERT_EQ(d->time_frames.size(), 1u);
  EXPECT_EQ(d->time_frames[0], TimeFrame::kAll);
  EXPECT_EQ(KeyPathForTimeFrame(*d, TimeFrame::kAll), "counts.issues");
}

struct BadCase {
  std::string from;
  std::string to;
  std::string field;
};

TEST(MetricDefinitionTest, RejectsMalformedFilesNamingFileAndField) {
  std::vector<BadCase> cases = {
      {"key_path: counts.issues\n", "", "key_path"},
      {"key_path: counts.issues", "key_path: counts..issues", "key_path"},
      {"key_path: counts.issues", "key_path: \"counts.is sues\"", "key_path"},
      {"description: Count of issues\n", "", "description"},
      {"value_type: number", "value_type: integer", "value_type"},
      {"value_type: number", "value_type: object", "value_json_schema"},
      {"status: active", "status: finished", "status"},
      {"status: active", "status: broken", "repair_issue_url"},
      {"product_group: project_management\n", "", "product_group"},
      {"time_frame: all", "time_frame: 90d", "time_frame"},
      {"time_frame: all", "time_frame: [7d, none]", "time_frame"},
      {"time_frame: all", "time_frame: [7d, 7d]", "time_frame"},
      {"time_frame: all\n", "", "time_frame"},
      {"data_source: database", "data_source: mongodb", "data_source"},
      {"data_category: optional", "data_category: secret", "data_category"},
      {"milestone: \"16.0\"", "milestone: sixteen", "milestone"},
      {"tiers: [free]", "tiers: [gold]", "tiers"},
      {"tiers: [free]\n", "", "tiers"},
      {"instrumentation_class: DatabaseMetric", "instrumentation_class: \"drop table\"", "instrumentation_class"},
      {"  operation: count", "  operation: max", "options.operation"},
      {"  relation: issues", "  relation: \"\"", "options.relation"},
  };
  for (const auto& c : cases) {
    Result<MetricDefinition> d = ParseMetricDefinition("config/metrics/x.yml", Replace(kValid, c.from, c.to));
    ASSERT_FALSE(d.ok()) << c.field;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(d.status().message(), HasSubstr("config/metrics/x.yml: field `" + c.field + "`")) << c.field;
  }
}

TEST(MetricDefinitionTest, RejectsFilesThatAreNotYamlMappings) {
  Result<MetricDefinition> bad_yaml = ParseMetricDefinition("bad.yml", "key_path: [unclosed\n");
  ASSERT_FALSE(bad_yaml.ok());
  EXPECT_THAT(bad_yaml.status().message(), HasSubstr("bad.yml: not valid YAML"));
  Result<MetricDefinition> list = ParseMetricDefinition("list.yml", "- a\n- b\n");
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(list.status().message(), HasSubstr("list.yml"));
}

TEST(MetricDefinitionTest, InternalEventsNeedEventsAndUniqueNeedsAWindow) {
  std::string ie = Replace(Replace(kValid, "data_source: database", "data_source: internal_events"),
                           "instrumentation_class: DatabaseMetric\n", "");
  Result<MetricDefinition> no_events = ParseMetricDefinition("ie.yml", ie);
  ASSERT_FALSE(no_events.ok());
  EXPECT_THAT(no_events.status().message(), HasSubstr("field `events`"));

  std::string unique_all = ie + "events:\n- name: opened\n  unique: user.id\n";
  Result<MetricDefinition> d = ParseMetricDefinition("ie.yml", unique_all);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("field `time_frame`"));

  std::string bad_unique = Replace(ie, "time_frame: all", "time_frame: 7d") + "events:\n- name: x\n  unique: email\n";
  Result<MetricDefinition> e = ParseMetricDefinition("ie.yml", bad_unique);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("field `events[0].unique`"));

  std::string ok = Replace(ie, "time_frame: all", "time_frame: [28d, 7d]") +
                   "events:\n- name: opened\n  unique: user.id\n  filter: {label: x}\n";
  Result<MetricDefinition> good = ParseMetricDefinition("ie.yml", ok);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->instrumentation, Instrumentation::kInternalEvents);
  EXPECT_EQ(KeyPathForTimeFrame(*good, TimeFrame::k28d), "counts.issues_monthly");
  EXPECT_EQ(KeyPathForTimeFrame(*good, TimeFrame::k7d), "counts.issues_weekly");
  ASSERT_EQ(good->events[0].filter.size(), 1u);
  EXPECT_EQ(good->events[0].filter[0].first, "label");
}

TEST(MetricDefinitionTest, RejectsDuplicateKeyPathsAcrossFiles) {
  testing::TempDir dir;
  for (const char* name : {"/a.yml", "/b.yml"}) {
    std::ofstream(dir.path() + name) << kValid;
  }
  Result<DefinitionSet> set = LoadMetricDefinitions({dir.path()});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(set.status().message(), HasSubstr("a.yml"));
  EXPECT_THAT(set.status().message(), HasSubstr("b.yml"));
}

TEST(MetricDefinitionTest, ValidatesKeyPathSyntax) {
  EXPECT_TRUE(IsValidKeyPath("a.b_c.d1"));
  EXPECT_FALSE(IsValidKeyPath("a.b.c."));
  EXPECT_FALSE(IsValidKeyPath("a;b"));
}

TEST(MetricDefinitionTest, GitLabDefinitionsLoadWithoutError) {
  Result<DefinitionSet> set = LoadMetricDefinitions(
      {"../shared/data/gitlab/config/metrics", "../shared/data/gitlab/ee/config/metrics",
       "../shared/data/gitlab/spec/fixtures/scripts/internal_events/metrics"});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  for (const auto& e : set->errors) ADD_FAILURE() << e.ToString();
  EXPECT_EQ(set->definitions.size(), 63u);

  std::set<std::string> uninstrumented;
  for (const auto* d : set->Uninstrumented()) {
    EXPECT_FALSE(d->no_instrumentation_reason.empty()) << d->file;
    uninstrumented.insert(d->key_path);
  }
  // Ruby-specific classes and prometheus are listed, not failed.
  EXPECT_TRUE(uninstrumented.count("settings.gitaly_apdex"));
  EXPECT_TRUE(uninstrumented.count("counts.workspaces"));
  EXPECT_TRUE(uninstrumented.count("topology"));

  auto find = [&](const std::string& key_path) -> const MetricDefinition* {
    for (const auto& d : set->definitions) {
      if (d.key_path == key_path) return &d;
    }
    return nullptr;
  };
  const MetricDefinition* uuid = find("uuid");  // the legacy format
  ASSERT_NE(uuid, nullptr);
  EXPECT_EQ(uuid->status, MetricStatus::kActive);
  EXPECT_EQ(uuid->status_as_written, "data_available");
  const MetricDefinition* hll = find("redis_hll_counters.incident_management.incident_management_alert_assigned_monthly");
  ASSERT_NE(hll, nullptr);
  EXPECT_EQ(hll->instrumentation, Instrumentation::kRedisHll);
  const MetricDefinition* sum = find("sums.sum_value_from_failed_usage_time");
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->instrumentation, Instrumentation::kInternalEvents);
  ASSERT_EQ(sum->events.size(), 2u);
  EXPECT_TRUE(sum->events[0].sum_value);
  EXPECT_EQ(sum->time_frames.size(), 3u);
  const MetricDefinition* trial = find("license_trial");
  ASSERT_NE(trial, nullptr);
  EXPECT_EQ(trial->instrumentation, Instrumentation::kLicense);
  const MetricDefinition* hostname = find("hostname");
  ASSERT_NE(hostname, nullptr);
  EXPECT_EQ(hostname->instrumentation, Instrumentation::kSystem);
}

TEST(MetricDefinitionTest, MissingDirectoryIsNotFound) {
  Result<DefinitionSet> set = LoadMetricDefinitions({"/nonexistent/furrow/definitions"});
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace furrow::ping
