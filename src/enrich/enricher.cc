#include "enrich/enricher.h"

#include "core/time_format.h"
#include "core/version.h"
#include "enrich/bad_rows.h"
#include "enrich/codec.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

constexpr size_t kAdapterStep = 0;
constexpr size_t kMappingStep = 1;
constexpr size_t kUriStep = 2;
constexpr size_t kFirstEnrichmentStep = 3;

}  // namespace

void SetDerivedTstamp(EnrichedEvent* event) {
  int64_t derived = event->collector_ms;
  if (event->true_ms) {
    derived = *event->true_ms;
  } else if (event->dvce_created_ms && event->dvce_sent_ms &&
             *event->dvce_sent_ms > *event->dvce_created_ms) {
    derived = event->collector_ms - (*event->dvce_sent_ms - *event->dvce_created_ms);
  }
  if (derived < 0) derived = event->collector_ms;
  (*event)[kDerivedTstamp] = FormatSqlMillis(derived);
}

Enricher::Enricher(EnricherOptions options)
    : options_(std::move(options)),
      adapter_(options_.validator, options_.processor),
      mapper_(options_.validator, options_.uuids, std::string(kArtifact) + "-" + kVersion) {
  step_names_ = {"adapter", "mapping", "uri_parsing"};
  for (const auto& e : options_.enrichments) step_names_.emplace_back(e->name());
}

void Enricher::ProcessRecord(std::string_view record, EnrichOutput* out) const {
  auto payload = tracker::DecodeCollectorPayload(record);
  if (!payload.ok()) {
    out->bad.push_back(
        {BadRowKind::kCollectorPayloadFormatViolation,
         badrows::CollectorPayloadFormatViolation(options_.processor, options_.clock->NowMillis(),
                                                  "thrift", payload.status().message(),
                                                  Base64Encode(record))});
    return;
  }
  ProcessPayload(*payload, out);
}

void Enricher::ProcessPayload(const tracker::CollectorPayload& payload, EnrichOutput* out) const {
  if (out->step_ns.size() < step_names_.size()) out->step_ns.resize(step_names_.size());
  int64_t now_ms = options_.clock->NowMillis();
  MonoTime start = options_.measure_enrichments ? options_.clock->Monotonic() : MonoTime();
  AdaptedPayload adapted = adapter_.Adapt(payload, now_ms);
  if (options_.measure_enrichments) {
    out->step_ns[kAdapterStep] += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.clock->Monotonic() - start).count());
  }
  if (adapted.failure != BadRowKind::kNone) {
    out->bad.push_back({adapted.failure, std::move(adapted.bad_row)});
    return;
  }
  for (const RawEvent& raw : adapted.events) ProcessEvent(payload, adapted, raw, now_ms, out);
}

void Enricher::ProcessEvent(const tracker::CollectorPayload& payload, const AdaptedPayload& adapted,
                            const RawEvent& raw, int64_t now_ms, EnrichOutput* out) const {
  const bool timed = options_.measure_enrichments;
  auto elapsed = [&](MonoTime since) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.clock->Monotonic() - since).count());
  };
  MonoTime t = timed ? options_.clock->Monotonic() : MonoTime();
  EnrichedEvent event;
  MapFailures map_failures;
  mapper_.Map(raw, payload, now_ms, &event, &map_failures);
  if (timed) out->step_ns[kMappingStep] += elapsed(t);

  auto raw_object = [&] {
    return RawEventObject(payload, adapted.vendor, adapted.version, raw.parameters);
  };
  if (!map_failures.protocol.empty()) {
    out->bad.push_back({BadRowKind::kTrackerProtocolViolations,
                        TrackerProtocolViolations(options_.processor, now_ms, adapted.vendor,
                                                  adapted.version, map_failures.protocol,
                                                  CollectorPayloadObject(payload, adapted.vendor,
                                                                         adapted.version))});
    return;
  }
  if (!map_failures.schema.empty()) {
    out->bad.push_back({BadRowKind::kSchemaViolations,
                        SchemaViolations(options_.processor, now_ms, map_failures.schema,
                                         raw_object(), ToBadRowJson(event))});
    return;
  }

  SetDerivedTstamp(&event);
  std::vector<std::string> failures;
  EnrichmentInput input{raw, payload};
  if (timed) t = options_.clock->Monotonic();
  uri_parsing_.Enrich(input, &event, &failures);
  if (timed) out->step_ns[kUriStep] += elapsed(t);
  for (size_t i = 0; i < options_.enrichments.size(); ++i) {
    if (timed) t = options_.clock->Monotonic();
    options_.enrichments[i]->Enrich(input, &event, &failures);
    if (timed) out->step_ns[kFirstEnrichmentStep + i] += elapsed(t);
  }
  if (!failures.empty()) {
    out->bad.push_back({BadRowKind::kEnrichmentFailures,
                        EnrichmentFailures(options_.processor, now_ms, failures, raw_object(),
                                           ToBadRowJson(event))});
    return;
  }
  if (auto too_long = CheckAtomicLimits(event, options_.limits)) {
    out->bad.push_back({BadRowKind::kSchemaViolations,
                        SchemaViolations(options_.processor, now_ms, {*too_long}, raw_object(),
                                         ToBadRowJson(event))});
    return;
  }
  out->good.push_back(ToTsv(event));
}

}  // namespace furrow::enrich
