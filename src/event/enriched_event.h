// The enriched event: Snowplow's 131 tab-separated fields, the format shared by
// enrich (which writes it), pseudonymize, the sink and the warehouse loaders.
//
//   Result<FieldViews> fields = SplitTsv(line);      // exactly 131 fields or an error
//   std::string_view app = (*fields)[kAppId];
//   EnrichedEvent event;                             // 131 empty (null) fields
//   event[kEvent] = "page_view";
//   std::string line = event.ToTsv();
//
// Conventions (docs: ../shared/reference/snowplow-protocol.md §4): null is the empty
// string; booleans are "1"/"0"; timestamps are UTC "yyyy-MM-dd HH:mm:ss.SSS". Three
// fields hold self-describing JSON: contexts (52), unstruct_event (58) and
// derived_contexts (122). No field may contain a tab or a newline; MakeTsvSafe
// turns any value into one that can be stored.
//
// Everything here is a pure function or a value type; safe for concurrent use.
// FieldViews point into the line they were split from and live no longer than it.
#pragma once

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::event {

inline constexpr size_t kFieldCount = 131;

// Field indices, in order (0-based).
enum FieldIndex : size_t {
  kAppId = 0, kPlatform, kEtlTstamp, kCollectorTstamp, kDvceCreatedTstamp, kEvent, kEventId,
  kTxnId, kNameTracker, kVTracker, kVCollector, kVEtl, kUserId, kUserIpaddress,
  kUserFingerprint, kDomainUserid, kDomainSessionidx, kNetworkUserid, kGeoCountry, kGeoRegion,
  kGeoCity, kGeoZipcode, kGeoLatitude, kGeoLongitude, kGeoRegionName, kIpIsp, kIpOrganization,
  kIpDomain, kIpNetspeed, kPageUrl, kPageTitle, kPageReferrer, kPageUrlscheme, kPageUrlhost,
  kPageUrlport, kPageUrlpath, kPageUrlquery, kPageUrlfragment, kRefrUrlscheme, kRefrUrlhost,
  kRefrUrlport, kRefrUrlpath, kRefrUrlquery, kRefrUrlfragment, kRefrMedium, kRefrSource,
  kRefrTerm, kMktMedium, kMktSource, kMktTerm, kMktContent, kMktCampaign, kContexts,
  kSeCategory, kSeAction, kSeLabel, kSeProperty, kSeValue, kUnstructEvent, kTrOrderid,
  kTrAffiliation, kTrTotal, kTrTax, kTrShipping, kTrCity, kTrState, kTrCountry, kTiOrderid,
  kTiSku, kTiName, kTiCategory, kTiPrice, kTiQuantity, kPpXoffsetMin, kPpXoffsetMax,
  kPpYoffsetMin, kPpYoffsetMax, kUseragent, kBrName, kBrFamily, kBrVersion, kBrType,
  kBrRenderengine, kBrLang, kBrFeaturesPdf, kBrFeaturesFlash, kBrFeaturesJava,
  kBrFeaturesDirector, kBrFeaturesQuicktime, kBrFeaturesRealplayer, kBrFeaturesWindowsmedia,
  kBrFeaturesGears, kBrFeaturesSilverlight, kBrCookies, kBrColordepth, kBrViewwidth,
  kBrViewheight, kOsName, kOsFamily, kOsManufacturer, kOsTimezone, kDvceType, kDvceIsmobile,
  kDvceScreenwidth, kDvceScreenheight, kDocCharset, kDocWidth, kDocHeight, kTrCurrency,
  kTrTotalBase, kTrTaxBase, kTrShippingBase, kTiCurrency, kTiPriceBase, kBaseCurrency,
  kGeoTimezone, kMktClickid, kMktNetwork, kEtlTags, kDvceSentTstamp, kRefrDomainUserid,
  kRefrDvceTstamp, kDerivedContexts, kDomainSessionid, kDerivedTstamp, kEventVendor,
  kEventName, kEventFormat, kEventVersion, kEventFingerprint, kTrueTstamp,
};
static_assert(kTrueTstamp == kFieldCount - 1);

// The field names in order ("app_id" ... "true_tstamp").
extern const std::array<std::string_view, kFieldCount> kFieldNames;

// The index of a field by its name, or nullopt for a name that is not one of the 131.
std::optional<size_t> FieldIndexByName(std::string_view name);

// True for contexts, unstruct_event and derived_contexts, whose values are
// self-describing JSON.
constexpr bool IsJsonField(size_t index) {
  return index == kContexts || index == kUnstructEvent || index == kDerivedContexts;
}

// The type of a field's value, as Snowplow's analytics SDKs parse the TSV: every
// field that is not a string must hold a value of its type (or be null), or the
// SDKs reject the whole line.
enum class ValueType { kString, kInteger, kDecimal, kBoolean, kTimestamp, kJson };

constexpr ValueType FieldValueType(size_t index) {
  switch (index) {
    case kEtlTstamp: case kCollectorTstamp: case kDvceCreatedTstamp: case kDvceSentTstamp:
    case kRefrDvceTstamp: case kDerivedTstamp: case kTrueTstamp:
      return ValueType::kTimestamp;
    case kContexts: case kUnstructEvent: case kDerivedContexts:
      return ValueType::kJson;
    case kTxnId: case kDomainSessionidx: case kPageUrlport: case kRefrUrlport: case kTiQuantity:
    case kPpXoffsetMin: case kPpXoffsetMax: case kPpYoffsetMin: case kPpYoffsetMax:
    case kBrViewwidth: case kBrViewheight: case kDvceScreenwidth: case kDvceScreenheight:
    case kDocWidth: case kDocHeight:
      return ValueType::kInteger;
    case kGeoLatitude: case kGeoLongitude: case kSeValue: case kTrTotal: case kTrTax:
    case kTrShipping: case kTiPrice: case kTrTotalBase: case kTrTaxBase: case kTrShippingBase:
    case kTiPriceBase:
      return ValueType::kDecimal;
    case kBrFeaturesPdf: case kBrFeaturesFlash: case kBrFeaturesJava: case kBrFeaturesDirector:
    case kBrFeaturesQuicktime: case kBrFeaturesRealplayer: case kBrFeaturesWindowsmedia:
    case kBrFeaturesGears: case kBrFeaturesSilverlight: case kBrCookies: case kDvceIsmobile:
      return ValueType::kBoolean;
    default:
      return ValueType::kString;
  }
}

using FieldViews = std::array<std::string_view, kFieldCount>;

// Calls fn(index, field) for the tab-separated fields of one TSV line (without its
// newline), in order, for the first kFieldCount of them, and returns how many fields
// the line has (anything but kFieldCount is malformed: FieldCountError). For callers
// that handle each field as they find it; SplitTsv collects them.
template <typename Fn>
size_t ForEachTsvField(std::string_view line, Fn&& fn) {
  size_t count = 0;
  size_t start = 0;
  auto tab_at = [&](size_t pos) {
    if (count < kFieldCount) fn(count, line.substr(start, pos - start));
    ++count;
    start = pos + 1;
  };
  size_t i = 0;
#if defined(__SSE2__)
  // 16 bytes at a time: a mask of the tabs, then one step per tab.
  const __m128i tab = _mm_set1_epi8('\t');
  for (; i + 16 <= line.size(); i += 16) {
    __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line.data() + i));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, tab)));
    while (mask != 0) {
      tab_at(i + static_cast<size_t>(__builtin_ctz(mask)));
      mask &= mask - 1;
    }
  }
#endif
  for (; i < line.size(); ++i) {
    if (line[i] == '\t') tab_at(i);
  }
  if (count < kFieldCount) fn(count, line.substr(start));
  return count + 1;
}

// kInvalidArgument for a line of `count` fields; gives the count, never the content.
Status FieldCountError(size_t count);

// Splits one TSV line (without its newline) into exactly 131 fields. Any other
// count is FieldCountError.
Result<FieldViews> SplitTsv(std::string_view line);

// Joins 131 fields with tabs (the caller guarantees they are TSV-safe).
std::string JoinTsv(const FieldViews& fields);

// Tab becomes four spaces; newlines and other ASCII control characters are removed.
std::string MakeTsvSafe(std::string_view value);

// An enriched event being built: 131 owned fields, all null (empty) at first.
struct EnrichedEvent {
  std::array<std::string, kFieldCount> fields;

  std::string& operator[](size_t index) { return fields[index]; }
  const std::string& operator[](size_t index) const { return fields[index]; }

  // The TSV line (no trailing newline). Fields must already be TSV-safe.
  std::string ToTsv() const;
};

}  // namespace furrow::event
