// Fuzz entry point for the adapter + validation path: the bytes become a
// collector payload (or, with a leading 'T', a raw Thrift record) and go through
// the Enricher with Iglu validation (Iglu Central copy in ../shared/data) and URI
// parsing. Invariants checked (abort on violation): every good output has exactly
// 131 TSV fields and no newline; every bad row is JSON; a payload with N events
// gives N outputs, a payload that fails as a whole gives one.
//
// Input layout (after the first byte, which picks the path):
//   <querystring> '\n' <content type> '\n' <body>   (missing parts are absent)
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "core/clock.h"
#include "enrich/enricher.h"
#include "enrich/iglu_validator.h"
#include "event/enriched_event.h"
#include "iglu/resolver.h"

namespace {

using namespace furrow;

struct Harness {
  ManualClock clock;
  enrich::CountingUuidSource uuids;
  std::unique_ptr<iglu::Resolver> resolver;
  std::unique_ptr<enrich::IgluEntityValidator> validator;
  std::unique_ptr<enrich::Enricher> enricher;

  Harness() {
    std::string config = R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
      "data":{"cacheSize":1000,"repositories":[{"name":"Iglu Central copy","priority":0,
      "vendorPrefixes":[],"connection":{"embedded":{"path":"../shared/data/iglu-central"}}}]}})";
    auto parsed = iglu::ResolverConfig::Parse(config, std::filesystem::current_path());
    if (!parsed.ok()) {
      std::fprintf(stderr, "fuzz: %s\n", parsed.status().ToString().c_str());
      std::abort();
    }
    auto created = iglu::Resolver::Create(std::move(*parsed));
    if (!created.ok()) {
      std::fprintf(stderr, "fuzz: %s\n", created.status().ToString().c_str());
      std::abort();
    }
    resolver = std::move(*created);
    validator = std::make_unique<enrich::IgluEntityValidator>(resolver.get(), &clock);
    enrich::EnricherOptions options;
    options.validator = validator.get();
    options.uuids = &uuids;
    options.clock = &clock;
    options.measure_enrichments = false;
    enricher = std::make_unique<enrich::Enricher>(std::move(options));
  }
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* harness = new Harness();
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  char selector = input[0];
  input.remove_prefix(1);
  enrich::EnrichOutput out;
  if (selector == 'T') {
    harness->enricher->ProcessRecord(input, &out);
    Check(out.good.size() + out.bad.size() >= 1, "a record gives at least one output");
  } else {
    static constexpr const char* kPaths[] = {"/i", "/com.snowplowanalytics.snowplow/tp2",
                                             "/com.snowplowanalytics.iglu/v1", "/r/tp2", "/com.acme/v1"};
    tracker::CollectorPayload p;
    p.ip_address = "10.0.0.1";
    p.timestamp_ms = 1700000000000;
    p.collector = "furrow-fuzz";
    p.path = kPaths[static_cast<unsigned char>(selector) % 5];
    size_t nl = input.find('\n');
    p.querystring = std::string(input.substr(0, nl));
    if (nl != std::string_view::npos) {
      std::string_view rest = input.substr(nl + 1);
      size_t nl2 = rest.find('\n');
      p.content_type = std::string(rest.substr(0, nl2));
      if (nl2 != std::string_view::npos) p.body = std::string(rest.substr(nl2 + 1));
    }
    p.headers = std::vector<std::string>{"X-Forwarded-For: " + std::string(input.substr(0, 40))};
    harness->enricher->ProcessPayload(p, &out);
    Check(out.good.size() + out.bad.size() >= 1, "a payload gives at least one output");
  }
  for (const std::string& line : out.good) {
    Check(line.find('\n') == std::string::npos, "no newline in a TSV line");
    Check(furrow::event::SplitTsv(line).ok(), "131 fields");
  }
  for (const auto& row : out.bad) {
    rapidjson::Document d;
    d.Parse(row.json.c_str(), row.json.size());
    Check(!d.HasParseError() && d.IsObject(), "bad rows are JSON objects");
  }
  return 0;
}
