// The Pseudonymizer: turns each line that is about to reach storage into one that
// holds no clear value outside the allowlist (../shared/reference/pseudonymization.md).
//
//   Pseudonymizer p(ring.active(), allowlist, &metrics, &clock, {});
//   std::string out;
//   LineKind kind = p.ProcessLine(line, &out);   // `out` is replaced, no newline
//
// Input lines are told apart by their first character: "{" is a bad row (JSON),
// anything else an enriched event (131 tab-separated fields).
//   * Enriched event: each string field that is not allowlisted and not empty becomes
//     its pseudonym (64 hex characters); a typed field (number, boolean, timestamp:
//     event::FieldValueType) that is not allowlisted follows the allowlist's
//     non_string_values policy, null by default, so that analytics SDKs and
//     warehouses still parse the line; contexts, unstruct_event and derived_contexts
//     keep their JSON shape, member names and schema URIs, and each leaf follows the
//     rules of the schema of the entity it belongs to.
//   * Bad row: a self-describing JSON document walked with the rules of its own
//     schema (the default allowlist describes every bad-row type: which structural
//     keys stay, and where payloads hold enriched fields, tracker parameters, headers
//     or bodies to read into).
//   * A line that cannot be read (not 131 fields, broken JSON in a JSON column, a bad
//     row that is not self-describing JSON, nesting beyond JsonTape::kMaxDepth)
//     never passes through: it becomes a generic_error bad row whose payload is the
//     pseudonym of the whole line and whose error says what was wrong without quoting
//     the line. It is counted in furrow_pseudonymize_invalid_lines_total{reason}.
//
// A pseudonym is the lowercase hex HMAC-SHA256 of the value's bytes (a JSON string's
// unescaped bytes; a number's or boolean's JSON text), optionally prefixed by
// "<key id>:". Deterministic: the same value and key give the same pseudonym in any
// process. Empty TSV fields (null) and JSON nulls stay null.
//
// Metrics (names never carry data): furrow_pseudonymize_lines_total{kind},
// furrow_pseudonymize_invalid_lines_total{reason: field_count, json_column, bad_row,
// too_long}, furrow_pseudonymize_values_total.
//
// Thread safety: a Pseudonymizer keeps scratch buffers; use one per thread. The hasher,
// allowlist, registry and clock must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "pseudonymize/allowlist.h"
#include "pseudonymize/json_tape.h"
#include "pseudonymize/pseudonym.h"

namespace furrow::pseudonymize {

struct PseudonymizerOptions {
  // Prefix every pseudonym with "<key_id>:" (default off). Only takes effect with a
  // non-empty key_id.
  bool key_id_prefix = false;
  // The id of the hasher's key (KeyRing::active_id()).
  std::string key_id;
  // Slots of the pseudonym cache (rounded up to a power of two; 0 disables it).
  // Values repeat a lot within a stream (user and session ids, user agents, URLs,
  // IP addresses), and a lookup costs a fraction of an HMAC. Only values of at most
  // kMaxCachedValueBytes are cached; memory is about 180 bytes per slot (default
  // 4096 slots, about 720 KiB: small enough to stay in a core's L2 cache, where a
  // larger table measured slower). The cache holds clear values, like the input buffers
  // it is filled from, and is wiped when the Pseudonymizer is destroyed.
  size_t cache_slots = 4096;
};

inline constexpr size_t kMaxCachedValueBytes = 104;

enum class LineKind {
  kEnrichedEvent,  // a pseudonymized enriched event (TSV)
  kBadRow,         // a pseudonymized bad row (JSON)
  kGenericError,   // an unreadable line, replaced by a generic_error bad row
};

class Pseudonymizer {
 public:
  Pseudonymizer(const PseudonymHasher& hasher, const Allowlist& allowlist,
                MetricsRegistry* metrics, const Clock* clock, PseudonymizerOptions options);
  ~Pseudonymizer();
  Pseudonymizer(const Pseudonymizer&) = delete;
  Pseudonymizer& operator=(const Pseudonymizer&) = delete;

  // Pseudonymizes one line (without its newline) into `out` (replacing its content).
  LineKind ProcessLine(std::string_view line, std::string* out);

  // Replaces a line that the caller could not even read whole (longer than its
  // limit) by a generic_error bad row; `prefix` is what was read of it and becomes the
  // pseudonymized payload. Counted with reason "too_long".
  void RejectOverlongLine(std::string_view prefix, size_t limit_bytes, std::string* out);

  // The parts of ProcessLine, for callers that know what they hold. On error `out`
  // is unspecified and nothing of the input is in the returned message. These do not
  // update furrow_pseudonymize_values_total until the next ProcessLine.
  Status ProcessEnrichedEvent(std::string_view line, std::string* out);
  Status ProcessBadRow(std::string_view json, std::string* out);

 private:
  class Walker;

  struct CacheSlot {
    uint64_t hash;
    uint8_t size;  // 0 marks an empty slot (the empty string is never cached)
    char value[kMaxCachedValueBytes];
    char hex[kPseudonymHexLength];
  };

  struct SchemaLookup {
    bool valid;
    const PathRule* rule;
  };
  static constexpr size_t kMaxCachedSchemas = 1024;
  static constexpr size_t kMaxCachedSchemaBytes = 256;

  // Allowlist::FindSchema, remembered: the same few schemas recur in every event.
  const PathRule* FindSchema(std::string_view schema, bool* valid);
  void AppendPseudonym(std::string_view value, std::string* out);
  // The cached hex pseudonym of a value of 1..kMaxCachedValueBytes bytes (computed
  // and cached on a miss); valid until the next call.
  const char* CachedHex(std::string_view value);
  // Adds the values pseudonymized since the last call to values_ (one atomic add
  // per line rather than per value).
  void FlushValueCount();
  void AppendPseudonymString(std::string_view value, std::string* out);
  void GenericError(std::string_view line, const std::string& error, std::string* out);

  const PseudonymHasher& hasher_;
  const Allowlist& allowlist_;
  const Clock* clock_;
  PseudonymizerOptions options_;
  std::string prefix_;
  JsonTape tape_;
  std::vector<CacheSlot> cache_;
  std::unordered_map<std::string, SchemaLookup, StringViewHash, std::equal_to<>> schema_cache_;
  uint64_t cache_mask_ = 0;
  // Tapes for JSON texts inside values, one per nesting level.
  std::vector<std::unique_ptr<JsonTape>> text_tapes_;
  Counter* events_;
  Counter* bad_rows_;
  Counter* generic_errors_;
  Counter* invalid_field_count_;
  Counter* invalid_json_column_;
  Counter* invalid_bad_row_;
  Counter* invalid_too_long_;
  Counter* values_;
  uint64_t pending_values_ = 0;
  Counter* failure_ = nullptr;  // the reason counter of the last failed line
};

}  // namespace furrow::pseudonymize
