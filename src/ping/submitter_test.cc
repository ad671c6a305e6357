#include "ping/submitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>

#include "ping/test_servers.h"

namespace furrow::ping {
namespace {

using ::testing::HasSubstr;

TEST(SubmitterTest, AcceptsOnlyAPositiveIntegerUsageDataId) {
  EXPECT_EQ(*ParseUsageDataId(201, R"({"conv_index":{"usage_data_id":42}})"), 42);
  EXPECT_EQ(*ParseUsageDataId(200, R"({"dev_ops_score":{"usage_data_id":7}})"), 7);
  EXPECT_FALSE(ParseUsageDataId(200, R"({"conv_index":{"usage_data_id":0}})").ok());
  EXPECT_FALSE(ParseUsageDataId(200, R"({"conv_index":{"usage_data_id":"42"}})").ok());
  EXPECT_FALSE(ParseUsageDataId(200, R"({"conv_index":{}})").ok());
  EXPECT_FALSE(ParseUsageDataId(200, "not json").ok());
  EXPECT_FALSE(ParseUsageDataId(500, R"({"conv_index":{"usage_data_id":42}})").ok());
  EXPECT_EQ(RetryDelay(1), std::chrono::hours(8));
  EXPECT_EQ(RetryDelay(2), std::chrono::hours(16));
  EXPECT_EQ(RetryDelay(3), std::chrono::hours(24));
  EXPECT_FALSE(RetryDelay(4).has_value());
}

class SubmitterFlowTest : public ::testing::Test {
 protected:
  PingRecord Record(int64_t ms) {
    PingRecord r;
    r.recorded_at_ms = ms;
    r.recorded_at = "2026-11-25T10:00:00.000Z";
    r.payload = R"({"uuid":"u-1","hostname":"h","version":"1.0","counts":{"issues":3}})";
    r.metadata = R"({"metadata":{"uuid":"u-1","metrics":[{"name":"counts.issues","time_elapsed":0.1,"error":null}]}})";
    return r;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  net::HttpClient client_;
  SenderIdentity sender_{"u-1", "h", "1.0"};
};

TEST_F(SubmitterFlowTest, SendsThePayloadThenItsMetadataAndRemembersTheId) {
  testing::TestReceiver receiver([](const testing::ReceivedRequest& r) -> testing::ScriptedResponse {
    if (r.target == "/usage_data") return {201, R"({"conv_index":{"usage_data_id":314}})"};
    return {200, "{}"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  auto state = AgentState::Open(dir_.path());
  ASSERT_TRUE(state.ok());
  PingRecord record = Record(clock_.NowMillis());
  ASSERT_TRUE((*state)->Save(record).ok());
  EXPECT_EQ((*state)->Save(record).code(), StatusCode::kAlreadyExists);  // recorded_at is unique

  Submitter submitter(client_, receiver.url() + "/", clock_);
  auto outcome = DeliverPing(**state, submitter, record, sender_, clock_);
  ASSERT_TRUE(outcome.ok());
  EXPECT_TRUE(outcome->ok) << outcome->error;
  EXPECT_EQ(outcome->usage_data_id, 314);

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/usage_data");
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(requests[0].body, record.payload);
  EXPECT_EQ(requests[1].target, "/usage_ping_metadata");
  EXPECT_EQ(requests[1].body, record.metadata);

  auto list = (*state)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].usage_data_id, 314);
  EXPECT_EQ((*list)[0].sent_at_ms, clock_.NowMillis());
  EXPECT_FALSE((*list)[0].next_attempt_ms.has_value());
}

TEST_F(SubmitterFlowTest, ReportsFailuresAndRetriesAfter8And16And24Hours) {
  std::atomic<bool> accept{false};
  testing::TestReceiver receiver([&accept](const testing::ReceivedRequest& r) -> testing::ScriptedResponse {
    if (r.target == "/usage_data") {
      return accept ? testing::ScriptedResponse{201, R"({"conv_index":{"usage_data_id":9}})"}
                    : testing::ScriptedResponse{200, R"({"conv_index":{"usage_data_id":-1}})"};
    }
    return {200, "{}"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  auto state = AgentState::Open(dir_.path());
  ASSERT_TRUE(state.ok());
  PingRecord record = Record(clock_.NowMillis());
  ASSERT_TRUE((*state)->Save(record).ok());
  Submitter submitter(client_, receiver.url(), clock_);

  const int64_t start = clock_.NowMillis();
  int64_t expected_next = start;
  for (int hours : {8, 16, 24}) {
    auto due = (*state)->DueRetries(clock_.NowMillis());
    ASSERT_TRUE(due.ok());
    PingRecord current = due->empty() ? record : (*due)[0];
    auto outcome = DeliverPing(**state, submitter, current, sender_, clock_);
    ASSERT_TRUE(outcome.ok());
    EXPECT_FALSE(outcome->ok);
    expected_next = clock_.NowMillis() + int64_t{hours} * 3600 * 1000;
    auto next = (*state)->NextRetryTime();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, expected_next) << hours;
    // Not due a minute before, due at the time.
    EXPECT_TRUE((*state)->DueRetries(expected_next - 60000)->empty());
    clock_.Advance(std::chrono::hours(hours));
    EXPECT_EQ((*state)->DueRetries(clock_.NowMillis())->size(), 1u);
  }
  // The fourth failure leaves the payload unsent with no retry.
  auto due = (*state)->DueRetries(clock_.NowMillis());
  auto outcome = DeliverPing(**state, submitter, (*due)[0], sender_, clock_);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->ok);
  EXPECT_FALSE((*(*state)->NextRetryTime()).has_value());

  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 8u);  // four attempts, each with an error report
  EXPECT_EQ(requests[1].target, "/usage_ping_errors");
  rapidjson::Document error;
  error.Parse(requests[1].body.c_str());
  ASSERT_FALSE(error.HasParseError());
  EXPECT_STREQ(error["error"]["uuid"].GetString(), "u-1");
  EXPECT_STREQ(error["error"]["hostname"].GetString(), "h");
  EXPECT_STREQ(error["error"]["version"].GetString(), "1.0");
  EXPECT_THAT(error["error"]["message"].GetString(), HasSubstr("usage_data_id"));
  EXPECT_TRUE(error["error"]["elapsed"].IsNumber());
  EXPECT_TRUE(error["error"]["time"].IsString());
  auto list = (*state)->List();
  EXPECT_EQ((*list)[0].attempts, 4);
  EXPECT_FALSE((*list)[0].sent_at_ms.has_value());
  EXPECT_THAT((*list)[0].last_error, HasSubstr("usage_data_id"));
}

TEST_F(SubmitterFlowTest, AnUnreachableReceiverIsAFailureWithARetry) {
  auto state = AgentState::Open(dir_.path());
  ASSERT_TRUE(state.ok());
  PingRecord record = Record(clock_.NowMillis());
  ASSERT_TRUE((*state)->Save(record).ok());
  Submitter submitter(client_, "http://127.0.0.1:" + std::to_string(testing::FreePort()), clock_,
                      std::chrono::milliseconds(2000));
  auto outcome = DeliverPing(**state, submitter, record, sender_, clock_);
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE(outcome->ok);
  EXPECT_THAT(outcome->error, HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(*(*state)->NextRetryTime(), clock_.NowMillis() + 8 * 3600 * 1000);
}

}  // namespace
}  // namespace furrow::ping
