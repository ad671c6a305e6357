// The golden test cases: one collector payload per event type (page view, page
// ping, struct, unstruct, transaction, transaction item), each as a GET and as a
// POST, with the same parameters. Shared by the golden tests, the analytics-SDK
// compatibility test and the fuzz seeds. Test-only code.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tracker/collector_payload.h"

namespace furrow::enrich::testing {

using Params = std::vector<std::pair<std::string, std::string>>;

struct GoldenCase {
  std::string name;      // e.g. "page_view"
  Params params;         // tracker parameters of the event
};

std::vector<GoldenCase> GoldenCases();

// The event as a GET (parameters in the query string) or a POST (payload_data).
tracker::CollectorPayload AsGet(const Params& params);
tracker::CollectorPayload AsPost(const Params& params);

std::string Base64Url(const std::string& text);

}  // namespace furrow::enrich::testing
