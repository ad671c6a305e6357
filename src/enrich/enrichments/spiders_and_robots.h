// iab_spiders_and_robots_enrichment 1-0-x: flags spiders and robots by IP and user
// agent lists, adding iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0.
//
// Files (each `<uri>/<database>`, per config_util.h; IAB's own lists are licensed,
// so any files in these formats work):
//   ipFile               one IPv4/IPv6 address or CIDR per line
//   excludeUseragentFile one pattern per line ("pattern|..." — text before the
//                        first '|' is used); a user agent containing one is a robot
//   includeUseragentFile same format; a user agent containing none of these is
//                        treated as a robot (when the file lists any)
// Matching is case-insensitive substring; '#' starts a comment line. The checks
// run in IAB's order: IP exclude, UA include, UA exclude; the first failure is
// the reason. Thread safety: immutable; Enrich() is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <rapidjson/document.h>

#include "core/status.h"
#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

Result<std::unique_ptr<Enrichment>> CreateSpidersAndRobots(const rapidjson::Value& parameters,
                                                           std::string schema_key,
                                                           const std::filesystem::path& base_dir);

}  // namespace furrow::enrich
