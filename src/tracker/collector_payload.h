// CollectorPayload: one HTTP request as the collector stores it in raw-good.
//
// Wire format: the Thrift struct of
// iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, binary protocol,
// one struct per stream record (IDL: tracker/collector_payload.thrift). Field ids are
// part of the contract and pinned by a fixed byte vector in the tests.
//
// Decoding untrusted bytes never asserts: malformed input is an error value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace furrow::tracker {

inline constexpr char kCollectorPayloadSchema[] =
    "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0";

struct CollectorPayload {
  std::string schema = kCollectorPayloadSchema;  // 31337
  std::string ip_address;                        // 100
  int64_t timestamp_ms = 0;                      // 200
  std::string encoding = "UTF-8";                // 210
  std::string collector;                         // 220, e.g. "furrow-0.1.0-file"
  std::optional<std::string> user_agent;         // 300
  std::optional<std::string> referer_uri;        // 310
  std::optional<std::string> path;               // 320
  std::optional<std::string> querystring;        // 330
  std::optional<std::string> body;               // 340 (binary on the wire)
  std::optional<std::vector<std::string>> headers;  // 350, "Name: value"
  std::optional<std::string> content_type;       // 360
  std::optional<std::string> hostname;           // 400
  std::optional<std::string> network_user_id;    // 410

  bool operator==(const CollectorPayload&) const = default;
};

// Thrift binary protocol encoding.
std::string EncodeCollectorPayload(const CollectorPayload& payload);

// Decodes one record. Errors: kInvalidArgument for bytes that are not a valid
// CollectorPayload struct (truncated, wrong types, missing required fields).
Result<CollectorPayload> DecodeCollectorPayload(std::string_view bytes);

// One JSON object with the Thrift field names: schema, ipAddress, timestamp (epoch
// ms), encoding, collector, userAgent, refererUri, path, querystring, body,
// headers (a list), contentType, hostname, networkUserId. Absent optionals are
// omitted. The body is written as a string (invalid UTF-8 replaced).
std::string CollectorPayloadToJson(const CollectorPayload& payload);

}  // namespace furrow::tracker
