// Splitting a POST whose CollectorPayload record is larger than the stream accepts.
//
// The body of a tp2 POST is {"schema":"...payload_data...","data":[e1,e2,...]}. Its
// events are packed greedily, in order, into as few payloads as possible, each a copy
// of the original request whose body holds {"schema":<same>,"data":[subset]} and whose
// encoded record is at most `max_record_bytes`. An event that does not fit even alone
// is returned in `oversized` (the caller turns it into a size_violation bad row).
// The body is parsed (RapidJSON) only here, on this rare path.
//
// Pure function; safe for concurrent use.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "tracker/collector_payload.h"

namespace furrow::collector {

struct SplitPayloads {
  std::vector<std::string> records;    // encoded CollectorPayloads, each <= the limit
  std::vector<std::string> oversized;  // JSON text of each event too large alone
};

// Errors: kInvalidArgument when the body is absent, not JSON, or has no "data" array
// (the whole request is then one size_violation).
Result<SplitPayloads> SplitByDataArray(const tracker::CollectorPayload& payload,
                                       size_t max_record_bytes);

}  // namespace furrow::collector
