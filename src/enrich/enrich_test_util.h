// Test fixtures for enrich: an Iglu resolver over ../shared/data/iglu-central,
// enrichment configs written into a temporary directory (every enrichment on,
// data from Debian's packages and ../shared/data/maxmind/test-data), and helpers
// that build collector payloads and validate bad rows against their schemas.
// Test-only code.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "core/clock.h"
#include "enrich/enricher.h"
#include "enrich/iglu_validator.h"
#include "iglu/resolver.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich::testing {

inline constexpr int64_t kCollectorMs = 1700000000000;  // 2023-11-14 22:13:20.000
inline constexpr char kIpInCityDb[] = "81.2.69.142";
inline constexpr char kChromeUa[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

// A temporary directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes every enrichment config furrow supports into `dir`.
void WriteAllEnrichmentConfigs(const std::filesystem::path& dir);

// A resolver whose only repository is the Iglu Central copy in ../shared/data.
std::unique_ptr<iglu::Resolver> MakeTestResolver();

// The full chain with every enrichment on.
class EnrichFixture {
 public:
  explicit EnrichFixture(bool all_enrichments = true);
  Enricher& enricher() { return *enricher_; }
  ManualClock& clock() { return clock_; }
  const EntityValidator& validator() const { return *validator_; }

  EnrichOutput Run(const tracker::CollectorPayload& payload);

 private:
  TempDir dir_;
  ManualClock clock_;
  CountingUuidSource uuids_;
  std::unique_ptr<iglu::Resolver> resolver_;
  std::unique_ptr<IgluEntityValidator> validator_;
  std::unique_ptr<Enricher> enricher_;
};

tracker::CollectorPayload GetPayload(const std::string& querystring);
tracker::CollectorPayload PostPayload(const std::string& body,
                                      const std::string& content_type = "application/json; charset=UTF-8",
                                      const std::string& querystring = "");

// The payload_data body of events given as parameter lists.
std::string PayloadDataBody(const std::vector<std::vector<std::pair<std::string, std::string>>>& events);

// Empty when `bad_row` validates against the schema its "schema" names (read from
// ../shared/data/iglu-central); otherwise the reasons.
std::string ValidateBadRow(const std::string& bad_row);

}  // namespace furrow::enrich::testing
