// Enricher: the whole per-record work of the enrich stage, without any I/O.
//
//   raw-good record --decode--> CollectorPayload --adapter--> raw events
//     --map (tracker protocol, Iglu validation)--> event --enrichments-->
//     --atomic limits--> enriched TSV line, or one bad row
//
// Exactly one output per event: a payload that fails as a whole (undecodable
// Thrift → collector_payload_format_violation; unknown vendor → adapter_failures;
// malformed tracker protocol → tracker_protocol_violations) gives one bad row; a
// payload with N events gives N outputs, each good or a bad row
// (tracker_protocol_violations, schema_violations, enrichment_failures).
//
// Thread safety: Process*() are const and safe for concurrent use (the
// validator, uuid source, clock and enrichments must be too). Ownership: the
// Enricher owns its enrichments; everything else must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "badrows/bad_row.h"
#include "core/clock.h"
#include "enrich/adapter.h"
#include "enrich/atomic_limits.h"
#include "enrich/entity_validator.h"
#include "enrich/enrichments/enrichment.h"
#include "enrich/enrichments/uri_parsing.h"
#include "enrich/event_mapper.h"
#include "enrich/uuid_source.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich {

struct EnricherOptions {
  const EntityValidator* validator = nullptr;  // required
  UuidSource* uuids = nullptr;                 // required
  const Clock* clock = nullptr;                // required (etl_tstamp, failure timestamps)
  std::vector<std::unique_ptr<Enrichment>> enrichments;  // applied after URI parsing
  badrows::Processor processor = badrows::Processor::Furrow();
  AtomicLimitsOptions limits;
  // Measure the time spent in each enrichment (EnrichOutput::enrichment_ns).
  // Default true; costs two monotonic clock reads per enrichment per event.
  bool measure_enrichments = true;
};

struct BadRow {
  BadRowKind kind;
  std::string json;
};

struct EnrichOutput {
  std::vector<std::string> good;  // TSV lines, no newline
  std::vector<BadRow> bad;
  // Nanoseconds per step, indexed like Enricher::StepNames(); accumulated.
  std::vector<uint64_t> step_ns;

  void Clear() {
    good.clear();
    bad.clear();
  }
};

class Enricher {
 public:
  explicit Enricher(EnricherOptions options);

  // One raw-good stream record (Thrift CollectorPayload bytes).
  void ProcessRecord(std::string_view record, EnrichOutput* out) const;
  void ProcessPayload(const tracker::CollectorPayload& payload, EnrichOutput* out) const;

  // Names of the timed steps: "adapter", "mapping", "uri_parsing", then each
  // configured enrichment's name.
  const std::vector<std::string>& StepNames() const { return step_names_; }

 private:
  void ProcessEvent(const tracker::CollectorPayload& payload, const AdaptedPayload& adapted,
                    const RawEvent& raw, int64_t now_ms, EnrichOutput* out) const;

  EnricherOptions options_;
  Adapter adapter_;
  EventMapper mapper_;
  UriParsingEnrichment uri_parsing_;
  std::vector<std::string> step_names_;
};

// derived_tstamp: true_tstamp if set; else collector − (sent − created) when
// both device times are set and sent > created; else collector_tstamp.
void SetDerivedTstamp(EnrichedEvent* event);

}  // namespace furrow::enrich
