// EventMapper: the tracker-protocol "transform" step. Maps one raw event's
// parameters (plus what the collector saw: timestamp, IP, user agent, referer,
// network user id) onto the 131 atomic fields, and extracts and validates its
// self-describing JSON (ue_pr/ue_px, co/cx).
//
// Parameter → field table: see snowplow-protocol.md §3. Conversions: `e` and `p`
// must be known values; dtm/stm/ttm are epoch milliseconds; res/vp/ds are WxH;
// vid, pp_*, ti_qu integers; f_*/cookie 1 or 0; se_va, tr_tt/tx/sh, ti_pr
// decimals; eid/sid UUIDs (eid generated when absent). Strings are made TSV-safe.
//
// user_ipaddress: `ip` if given, else the first X-Forwarded-For address, else the
// Forwarded header's for=, else the socket address. page_url: `url`, else the
// collector's Referer. network_userid: `tnuid`, else `nuid`, else the collector's.
//
// Thread safety: Map() is const; safe for concurrent use if the validator and
// the uuid source are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "enrich/adapter.h"
#include "enrich/enriched_event.h"
#include "enrich/entity_validator.h"
#include "enrich/uuid_source.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich {

struct MapFailures {
  // tracker_protocol_violations messages (bad parameter values, undecodable
  // base64, JSON that does not parse).
  std::vector<std::string> protocol;
  // schema_violations messages (entities invalid against their schemas).
  std::vector<std::string> schema;

  bool empty() const { return protocol.empty() && schema.empty(); }
};

class EventMapper {
 public:
  // `etl_version` is written into v_etl (e.g. "furrow-0.1.0").
  EventMapper(const EntityValidator* validator, UuidSource* uuids, std::string etl_version)
      : validator_(validator), uuids_(uuids), etl_version_(std::move(etl_version)) {}

  void Map(const RawEvent& raw, const tracker::CollectorPayload& payload, int64_t etl_ms,
           EnrichedEvent* event, MapFailures* failures) const;

 private:
  void MapUnstruct(const RawEvent& raw, EnrichedEvent* event, MapFailures* failures) const;
  void MapContexts(const RawEvent& raw, EnrichedEvent* event, MapFailures* failures) const;

  const EntityValidator* validator_;
  UuidSource* uuids_;
  std::string etl_version_;
};

// The client IP from the collector's view (headers, then socket), as described
// above. Exposed for tests.
std::string ClientIp(const tracker::CollectorPayload& payload);

// The event_vendor/name/format/version of built-in event types (empty for
// unknown ones and for unstruct, whose come from its entity).
struct EventSchema {
  std::string_view vendor, name, format, version;
};
EventSchema BuiltInEventSchema(std::string_view event);

}  // namespace furrow::enrich
