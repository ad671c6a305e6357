// The tracker protocol's parameters and the enriched fields they fill
// (../shared/reference/snowplow-protocol.md §3): aid -> app_id, res -> dvce_screenwidth
// and dvce_screenheight, f_pdf -> br_features_pdf, ue_px -> unstruct_event, ...
//
//   const ParameterMapping* m = FindParameter("res");
//   // m->kind == ParameterKind::kSize, m->field == kDvceScreenwidth,
//   // m->second_field == kDvceScreenheight
//
// Enrich uses it to fill events; pseudonymize uses it to apply the atomic-field
// allowlist to the query strings and bodies kept in bad rows. Immutable tables;
// safe for concurrent use.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "event/enriched_event.h"

namespace furrow::event {

// How a parameter's value becomes field values.
enum class ParameterKind {
  kString,         // copied (TSV-safe) into `field`
  kInteger,        // a whole number, e.g. vid -> domain_sessionidx, pp_mix
  kDecimal,        // a decimal number, e.g. se_va, tr_tt
  kTimestampMs,    // milliseconds since the epoch -> a timestamp field (dtm, stm, ttm)
  kSize,           // "WxH" -> `field` (width) and `second_field` (height): res, vp, ds
  kBoolean,        // "1"/"0" browser features (f_*, cookie)
  kJson,           // self-describing JSON text: ue_pr -> unstruct_event, co -> contexts
  kJsonBase64Url,  // the same, base64url-encoded: ue_px, cx
};

struct ParameterMapping {
  std::string_view parameter;
  ParameterKind kind;
  size_t field;
  // The height field for kSize; equal to `field` otherwise.
  size_t second_field;
};

// The mapping for a parameter name, or nullptr for a parameter that fills no field.
// Where two parameters fill one field (nuid and tnuid; se_ca and legacy ev_ca) both
// are listed; which one wins is enrich's rule (tnuid; the se_* form).
const ParameterMapping* FindParameter(std::string_view name);

// Every mapping, in protocol order.
std::span<const ParameterMapping> AllParameters();

}  // namespace furrow::event
