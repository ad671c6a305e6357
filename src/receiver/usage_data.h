// Parsing and validating what agents POST to the receiver: a usage payload
// (/usage_data), its metadata (/usage_ping_metadata) and a send error
// (/usage_ping_errors). The bodies are untrusted; every problem is a Status whose
// message says what is wrong, and nothing here asserts on input.
//
// Error codes and the HTTP status the receiver answers with:
//   kInvalidArgument     400: not JSON, not a JSON object, nesting deeper than
//                        PayloadLimits::max_depth, not valid UTF-8
//   kFailedPrecondition  422: well-formed JSON object that lacks a required field
//                        (uuid, recorded_at as non-empty strings) or has one of the
//                        wrong type
// Optional fields of an unexpected type (agents send -1 for any metric that failed,
// e.g. "license_trial": -1) are accepted and left empty in UsageData; the payload
// keeps them as sent.
//
// Pure functions: safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::receiver {

struct PayloadLimits {
  // Deepest nesting of objects and arrays accepted (the top-level object is depth 1).
  // Default 64: GitLab payloads nest about 6 deep.
  int max_depth = 64;
};

// The flattened columns of one payload (usage_data). Absent fields are empty /
// nullopt. `payload` is the body as received (valid JSON).
struct UsageData {
  std::string payload;
  std::string uuid;
  std::string recorded_at;  // as sent, e.g. "2020-04-17T07:43:54.162+00:00"
  std::string hostname;
  std::string version;
  std::string edition;
  std::string installation_type;
  std::optional<int64_t> active_user_count;
  std::string license_md5;
  std::string license_sha256;
  std::string license_id;
  std::optional<int64_t> historical_max_users;
  std::optional<int64_t> license_user_count;
  std::string license_starts_at;
  std::string license_expires_at;
  std::string license_plan;
  std::optional<bool> license_trial;
  std::string database_adapter;
  std::string database_version;
  std::string stats;  // the "counts" object as JSON, "{}" if absent
};

struct PingError {
  std::string uuid;
  std::string hostname;
  std::string version;
  std::string message;
  std::optional<double> elapsed;
  std::string time;
  std::string payload;  // the body as received
};

// Parses and validates a /usage_data body.
[[nodiscard]] Result<UsageData> ParseUsageData(std::string_view body, const PayloadLimits& limits);

// Parses {"metadata":{"uuid":..., "metrics":[...]}}; returns (uuid, metadata object JSON).
struct PingMetadata {
  std::string uuid;
  std::string metadata;
};
[[nodiscard]] Result<PingMetadata> ParsePingMetadata(std::string_view body, const PayloadLimits& limits);

// Parses {"error":{"time","uuid","hostname","version","message","elapsed"}}.
[[nodiscard]] Result<PingError> ParsePingError(std::string_view body, const PayloadLimits& limits);

// The deepest nesting of objects and arrays in `json` (0 for a scalar), counted
// without parsing; strings are skipped. Stops counting once `stop_above` is exceeded.
int JsonNestingDepth(std::string_view json, int stop_above);

}  // namespace furrow::receiver
