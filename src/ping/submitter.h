// Submitter: sends one payload to a Service Ping receiver, as GitLab's agent does.
//
//   1. POST RECEIVER/usage_data (Content-Type: application/json). Success only for
//      a 2xx whose JSON body has an integer > 0 at conv_index.usage_data_id (or
//      dev_ops_score.usage_data_id); anything else is a failure.
//   2. On success: POST RECEIVER/usage_ping_metadata with the per-metric metadata
//      (its failure is logged and does not undo the success).
//   3. On failure: POST RECEIVER/usage_ping_errors with
//      {"error":{"time","uuid","hostname","version","message","elapsed"}}.
//
// DeliverPing wraps this with the agent's bookkeeping: the outcome is written to
// AgentState, and a failed attempt schedules the next one after 8, 16, then 24
// hours (three retries), after which the payload stays unsent.
//
// Thread safety: a Submitter may be used from several threads (HttpClient is).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "net/http_client.h"
#include "ping/agent_state.h"

namespace furrow::ping {

struct SubmitOutcome {
  bool ok = false;
  int64_t usage_data_id = 0;
  std::string error;  // why it failed
};

// Who is sending, for the error report.
struct SenderIdentity {
  std::string uuid;
  std::string hostname;
  std::string version;
};

class Submitter {
 public:
  // `client` and `clock` must outlive the submitter. `receiver_url` is the base URL
  // (e.g. https://version.example.com), without a trailing path.
  Submitter(net::HttpClient& client, std::string receiver_url, const Clock& clock,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(60000));

  SubmitOutcome Submit(const std::string& payload_json, const std::string& metadata_json,
                       const SenderIdentity& sender);

 private:
  Result<net::HttpClientResponse> Post(const std::string& path, const std::string& body);
  net::HttpClient& client_;
  std::string base_;
  const Clock& clock_;
  std::chrono::milliseconds timeout_;
};

// Parses a receiver's answer to POST /usage_data: the id, or kInvalidArgument
// saying what is missing.
[[nodiscard]] Result<int64_t> ParseUsageDataId(int http_status, const std::string& body);

// The delay before retry `attempt` (1-based: after the first failure 8 h, then
// 16 h, then 24 h); nullopt when no retry is left.
std::optional<std::chrono::hours> RetryDelay(int failed_attempts);

// Sends `record` (already saved in `state`), records the outcome and schedules a
// retry on failure. Returns the outcome; state errors are returned as errors.
[[nodiscard]] Result<SubmitOutcome> DeliverPing(AgentState& state, Submitter& submitter, const PingRecord& record,
                                                const SenderIdentity& sender, const Clock& clock);

}  // namespace furrow::ping
