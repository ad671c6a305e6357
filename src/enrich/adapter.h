// Adapters: turn one CollectorPayload into raw events (tracker-protocol parameter
// maps), or into one bad row when the payload fails as a whole.
//
// Supported vendor/version paths:
//   /i, /ice.png, /com.snowplowanalytics.snowplow/tp1   GET, query string
//   /com.snowplowanalytics.snowplow/tp2                  GET query string, or POST
//       payload_data JSON (application/json[; charset=utf-8|UTF-8]); query-string
//       parameters are merged into every event and win
//   /r/tp2                                               redirect: `u` becomes a
//       uri_redirect self-describing event
//   /com.snowplowanalytics.iglu/v1                       Iglu webhook: GET with
//       schema= and values, or POST JSON (self-describing, or data with schema=)
//       or form fields
// Anything else is an adapter_failures bad row. Malformed tracker-protocol input
// (no parameters, wrong content type, body not JSON, payload_data invalid against
// its schema) is a tracker_protocol_violations bad row.
//
// Thread safety: Adapt() is const and safe for concurrent use. The validator must
// outlive the Adapter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "badrows/bad_row.h"
#include "enrich/entity_validator.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich {

inline constexpr char kSnowplowVendor[] = "com.snowplowanalytics.snowplow";
inline constexpr char kIgluVendor[] = "com.snowplowanalytics.iglu";

// One event's tracker-protocol parameters, sorted by name, names unique.
struct RawEvent {
  std::vector<std::pair<std::string, std::string>> parameters;

  // The value of `name`, or nullptr.
  const std::string* Find(std::string_view name) const;
};

enum class BadRowKind { kNone, kCollectorPayloadFormatViolation, kAdapterFailures,
                        kTrackerProtocolViolations, kSchemaViolations, kEnrichmentFailures };

// Stable label of a kind for metrics ("adapter_failures", ...).
std::string_view BadRowKindName(BadRowKind kind);

struct AdaptedPayload {
  std::string vendor;
  std::string version;
  std::vector<RawEvent> events;
  BadRowKind failure = BadRowKind::kNone;  // set when the payload failed as a whole
  std::string bad_row;                     // the bad row when failure != kNone
};

class Adapter {
 public:
  Adapter(const EntityValidator* validator, badrows::Processor processor)
      : validator_(validator), processor_(std::move(processor)) {}

  // `now_ms` stamps bad rows' failure timestamp.
  AdaptedPayload Adapt(const tracker::CollectorPayload& payload, int64_t now_ms) const;

 private:
  void AdaptTrackerProtocol(const tracker::CollectorPayload& payload, bool allow_body,
                            int64_t now_ms, AdaptedPayload* out) const;
  void AdaptRedirect(const tracker::CollectorPayload& payload, int64_t now_ms,
                     AdaptedPayload* out) const;
  void AdaptIgluWebhook(const tracker::CollectorPayload& payload, int64_t now_ms,
                        AdaptedPayload* out) const;
  void Fail(const tracker::CollectorPayload& payload, BadRowKind kind,
            std::vector<std::string> messages, int64_t now_ms, AdaptedPayload* out) const;

  const EntityValidator* validator_;
  badrows::Processor processor_;
};

// Sorts by name and keeps, for each name, the last value given (callers add the
// values that must win last).
void NormalizeParameters(std::vector<std::pair<std::string, std::string>>* params);

}  // namespace furrow::enrich
