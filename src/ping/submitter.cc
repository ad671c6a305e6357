#include "ping/submitter.h"

#include <rapidjson/document.h>

#include "core/json_escape.h"
#include "core/logging.h"
#include "core/time_format.h"

namespace furrow::ping {

Submitter::Submitter(net::HttpClient& client, std::string receiver_url, const Clock& clock,
                     std::chrono::milliseconds timeout)
    : client_(client), base_(std::move(receiver_url)), clock_(clock), timeout_(timeout) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Result<net::HttpClientResponse> Submitter::Post(const std::string& path, const std::string& body) {
  net::HttpClientRequest request;
  request.method = "POST";
  request.url = base_ + path;
  request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  request.body = body;
  request.timeout = timeout_;
  return client_.Send(request);
}

Result<int64_t> ParseUsageDataId(int http_status, const std::string& body) {
  if (http_status < 200 || http_status > 299) {
    return InvalidArgumentError("receiver answered HTTP " + std::to_string(http_status));
  }
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("receiver's answer is not a JSON object");
  for (const char* section : {"conv_index", "dev_ops_score"}) {
    auto it = doc.FindMember(section);
    if (it == doc.MemberEnd() || !it->value.IsObject()) continue;
    auto id = it->value.FindMember("usage_data_id");
    if (id == it->value.MemberEnd()) continue;
    if (id->value.IsInt64() && id->value.GetInt64() > 0) return id->value.GetInt64();
    return InvalidArgumentError(std::string("receiver's ") + section + ".usage_data_id is not an integer > 0");
  }
  return InvalidArgumentError("receiver's answer has no conv_index.usage_data_id");
}

SubmitOutcome Submitter::Submit(const std::string& payload_json, const std::string& metadata_json,
                                const SenderIdentity& sender) {
  MonoTime start = clock_.Monotonic();
  SubmitOutcome outcome;
  Result<net::HttpClientResponse> response = Post("/usage_data", payload_json);
  if (!response.ok()) {
    outcome.error = "POST /usage_data: " + response.status().ToString();
  } else {
    Result<int64_t> id = ParseUsageDataId(response->status, response->body);
    if (id.ok()) {
      outcome.ok = true;
      outcome.usage_data_id = *id;
    } else {
      outcome.error = "POST /usage_data: " + id.status().message();
    }
  }
  if (outcome.ok) {
    Result<net::HttpClientResponse> meta = Post("/usage_ping_metadata", metadata_json);
    if (!meta.ok() || meta->status < 200 || meta->status > 299) {
      log::Warn("service ping metadata not accepted",
                {{"error", meta.ok() ? "HTTP " + std::to_string(meta->status) : meta.status().ToString()}});
    }
    return outcome;
  }
  double elapsed = std::chrono::duration<double>(clock_.Monotonic() - start).count();
  std::string body = "{\"error\":{\"time\":";
  AppendJsonString(&body, FormatIso8601Millis(clock_.NowMillis()));
  body += ",\"uuid\":";
  AppendJsonString(&body, sender.uuid);
  body += ",\"hostname\":";
  AppendJsonString(&body, sender.hostname);
  body += ",\"version\":";
  AppendJsonString(&body, sender.version);
  body += ",\"message\":";
  AppendJsonString(&body, outcome.error);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.6f", elapsed);
  body += ",\"elapsed\":";
  body += buffer;
  body += "}}";
  Result<net::HttpClientResponse> reported = Post("/usage_ping_errors", body);
  if (!reported.ok()) log::Warn("service ping error report not sent", {{"error", reported.status().ToString()}});
  return outcome;
}

std::optional<std::chrono::hours> RetryDelay(int failed_attempts) {
  switch (failed_attempts) {
    case 1: return std::chrono::hours(8);
    case 2: return std::chrono::hours(16);
    case 3: return std::chrono::hours(24);
    default: return std::nullopt;
  }
}

Result<SubmitOutcome> DeliverPing(AgentState& state, Submitter& submitter, const PingRecord& record,
                                  const SenderIdentity& sender, const Clock& clock) {
  SubmitOutcome outcome = submitter.Submit(record.payload, record.metadata, sender);
  int attempts = record.attempts + 1;
  if (outcome.ok) {
    FURROW_RETURN_IF_ERROR(state.MarkSent(record.recorded_at_ms, clock.NowMillis(), outcome.usage_data_id, attempts));
    log::Info("service ping sent", {{"recorded_at", record.recorded_at}, {"usage_data_id", outcome.usage_data_id}});
    return outcome;
  }
  std::optional<std::chrono::hours> delay = RetryDelay(attempts);
  std::optional<int64_t> next;
  if (delay) next = clock.NowMillis() + std::chrono::duration_cast<std::chrono::milliseconds>(*delay).count();
  FURROW_RETURN_IF_ERROR(state.MarkFailed(record.recorded_at_ms, attempts, next, outcome.error));
  log::Warn("service ping not accepted", {{"recorded_at", record.recorded_at},
                                          {"error", outcome.error},
                                          {"attempts", attempts},
                                          {"retry_at", next ? FormatIso8601Millis(*next) : std::string("never")}});
  return outcome;
}

}  // namespace furrow::ping
