// EnrichJournal: the small record the enrich stage makes durable before it appends a
// batch's outputs, so that a restart after a crash neither repeats nor loses them.
// The protocol that uses it is in enrich_stage.h; this file is the record and its
// format.
//
// File DATA_DIR/enrich/<reader>.journal, replaced atomically (core/durable_file.h).
// Text, four lines:
//
//   furrow-enrich-journal 1
//   input P:N[,P:N...]            the batch's end position on the input stream
//   good START TOTAL D i1 ... iD  enriched-good: its EndOffset() just before this
//   bad START TOTAL D i1 ... iD   attempt's appends; the batch's number of outputs to
//                                 the stream; the D indices (0-based, ascending, below
//                                 TOTAL) of outputs already durable from an earlier
//                                 attempt, which this attempt does not append again
//
// Example (a batch that ends at raw-good offset 1200, with 998 good and 2 bad
// outputs, first attempt):
//
//   furrow-enrich-journal 1
//   input 0:1200
//   good 51234 998 0
//   bad 310 2 0
//
// Errors: a file that does not follow this format is kDataLoss (the stage refuses to
// guess what was durable); kIoError from the OS. Pure functions apart from the file
// I/O; safe for concurrent use on different paths.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "stream/stream.h"

namespace furrow::enrich {

// One output stream's part of a journaled batch.
struct OutputJournal {
  uint64_t start = 0;      // the stream's EndOffset() before this attempt's appends
  std::vector<bool> done;  // one flag per output of the batch: durable already

  bool operator==(const OutputJournal&) const = default;
};

struct EnrichJournal {
  stream::Position input_end;  // commit this once every output is durable
  OutputJournal good;
  OutputJournal bad;
};

// Largest TOTAL accepted when parsing (bounds the memory a corrupt file can ask for).
inline constexpr uint64_t kMaxJournalOutputs = uint64_t{1} << 24;

std::string EncodeEnrichJournal(const EnrichJournal& journal);
[[nodiscard]] Result<EnrichJournal> ParseEnrichJournal(std::string_view text);

// The journal at `path`; nullopt when there is none.
[[nodiscard]] Result<std::optional<EnrichJournal>> ReadEnrichJournal(const std::string& path);
// Replaces the journal at `path` atomically and durably.
[[nodiscard]] Status WriteEnrichJournal(const std::string& path, const EnrichJournal& journal);

}  // namespace furrow::enrich
