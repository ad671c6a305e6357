#include "pseudonymize/pseudonymizer.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <functional>

#include <memory>
#include <vector>

#include "badrows/bad_row.h"
#include "core/json_escape.h"
#include "event/enriched_event.h"

namespace furrow::pseudonymize {
namespace {

// How many JSON texts may be nested inside JSON strings (a body holding a cx holding
// contexts...). Deeper texts are pseudonymized whole.
constexpr int kMaxTextNesting = 4;

// base64url (or plain base64) without whitespace; nullopt when it is not.
bool DecodeBase64Url(std::string_view in, std::string* out) {
  std::string s(in);
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  size_t pad = 0;
  if (!s.empty() && s[s.size() - 1] == '=') ++pad;
  if (s.size() > 1 && s[s.size() - 2] == '=') ++pad;
  out->resize(s.size() / 4 * 3);
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) return false;
  out->resize(static_cast<size_t>(n) - pad);
  return true;
}

std::string EncodeBase64Url(std::string_view in, bool padded) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  if (!padded) {
    while (!out.empty() && out.back() == '=') out.pop_back();
  }
  return out;
}

// True if `value` needs JSON escaping or UTF-8 checking: a byte below 0x20, at or
// above 0x7F, a quote or a backslash.
inline bool NeedsEscaping(std::string_view value) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= value.size(); i += 16) {
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(value.data() + i));
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches them.
    __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(c, space), _mm_cmpeq_epi8(c, del)),
                               _mm_or_si128(_mm_cmpeq_epi8(c, quote), _mm_cmpeq_epi8(c, backslash)));
    if (_mm_movemask_epi8(bad) != 0) return true;
  }
#endif
  for (; i < value.size(); ++i) {
    auto u = static_cast<unsigned char>(value[i]);
    if (u < 0x20 || u >= 0x7F || u == '"' || u == '\\') return true;
  }
  return false;
}

// AppendJsonString with a fast path for the common case: printable ASCII without
// quotes or backslashes is copied in one go; anything else takes the careful path,
// which also replaces invalid UTF-8.
//
// Short pieces are written straight into the string, grown once for the whole
// piece: appending character by character (std::string::push_back is not inlined)
// cost more than the rest of the work, and assembling pieces in a stack buffer first
// stalls on store forwarding when the buffer is copied.
// Grows `out` by `n` bytes and returns where they start, for the caller to fill.
inline char* Extend(std::string* out, size_t n) {
  const size_t old = out->size();
  out->resize(old + n);
  return out->data() + old;
}

inline void AppendJsonString(std::string* out, std::string_view value) {
  if (NeedsEscaping(value)) {
    furrow::AppendJsonString(out, value);
    return;
  }
  char* d = Extend(out, value.size() + 2);
  d[0] = '"';
  std::memcpy(d + 1, value.data(), value.size());
  d[value.size() + 1] = '"';
}

// `<lead>"name":`: an object member's name after `lead` ('{', ',' or none).
inline void AppendMemberName(std::string* out, std::string_view name, char lead) {
  if (!NeedsEscaping(name)) {
    char* d = Extend(out, name.size() + 3 + (lead != '\0' ? 1 : 0));
    if (lead != '\0') *d++ = lead;
    *d++ = '"';
    std::memcpy(d, name.data(), name.size());
    d += name.size();
    d[0] = '"';
    d[1] = ':';
    return;
  }
  if (lead != '\0') *out += lead;
  furrow::AppendJsonString(out, name);
  *out += ':';
}

bool IsLeaf(JsonToken::Type t) {
  return t != JsonToken::kStartObject && t != JsonToken::kStartArray;
}

}  // namespace

// Writes a pseudonymized copy of JSON values, following allowlist rules.
class Pseudonymizer::Walker {
 public:
  explicit Walker(Pseudonymizer* p) : p_(p) {}

  size_t Value(const JsonTape& t, size_t i, const PathRule* rule, std::string* out) {
    if (rule != nullptr) {
      switch (rule->reader) {
        case Reader::kNone: break;
        case Reader::kSelfDescribing: return SelfDescribing(t, i, out);
        case Reader::kJsonText: return JsonText(t, i, out);
        case Reader::kEnrichedEvent: return EnrichedEvent(t, i, out);
        case Reader::kTrackerParameters: return TrackerParameters(t, i, out);
        case Reader::kHttpHeaders: return HttpHeaders(t, i, out);
      }
    }
    return Plain(t, i, rule, out);
  }

  size_t SelfDescribing(const JsonTape& t, size_t i, std::string* out) {
    if (t[i].type != JsonToken::kStartObject) return Plain(t, i, nullptr, out);
    const size_t end = t[i].end;
    std::string_view schema;
    bool has_schema = false;
    for (size_t j = i + 1; j < end; j = t.Skip(j + 1)) {
      if (t[j].text() == "schema" && t[j + 1].type == JsonToken::kString) {
        schema = t[j + 1].text();
        has_schema = true;
      }
    }
    if (!has_schema) return Plain(t, i, nullptr, out);
    bool valid_schema = false;
    const PathRule* rules = p_->FindSchema(schema, &valid_schema);
    // Not empty: it has a schema member.
    for (size_t j = i + 1; j < end; j = t.Skip(j + 1)) {
      std::string_view key = t[j].text();
      AppendMemberName(out, key, j == i + 1 ? '{' : ',');
      if (key == "schema" && t[j + 1].type == JsonToken::kString) {
        // Only the schema that chose the rules is kept (a duplicate "schema" key is
        // pseudonymized like any value).
        if (valid_schema && t[j + 1].data == schema.data()) {
          AppendJsonString(out, t[j + 1].text());
        } else {
          p_->AppendPseudonymString(t[j + 1].text(), out);
        }
      } else if (key == "data") {
        Value(t, j + 1, rules, out);
      } else {
        Value(t, j + 1, nullptr, out);
      }
    }
    *out += '}';
    return end + 1;
  }

  // Rewrites a JSON text as self-describing JSON into `out`; false if it is not JSON.
  bool RewriteText(std::string_view text, std::string* out) {
    if (depth_ >= kMaxTextNesting) return false;
    auto& tapes = p_->text_tapes_;
    if (tapes.size() <= static_cast<size_t>(depth_)) tapes.push_back(std::make_unique<JsonTape>());
    JsonTape& tape = *tapes[depth_];
    if (!tape.Parse(text).ok()) return false;
    ++depth_;
    SelfDescribing(tape, 0, out);
    --depth_;
    return true;
  }

 private:
  size_t Plain(const JsonTape& t, size_t i, const PathRule* rule, std::string* out) {
    const JsonToken& tok = t[i];
    switch (tok.type) {
      case JsonToken::kStartObject: {
        if (tok.end == i + 1) {
          out->append("{}", 2);
          return tok.end + 1;
        }
        for (size_t j = i + 1; j < tok.end;) {
          AppendMemberName(out, t[j].text(), j == i + 1 ? '{' : ',');
          j = Value(t, j + 1, rule != nullptr ? rule->Member(t[j].text()) : nullptr, out);
        }
        *out += '}';
        return tok.end + 1;
      }
      case JsonToken::kStartArray: {
        *out += '[';
        const PathRule* items = rule != nullptr ? rule->items.get() : nullptr;
        for (size_t j = i + 1; j < tok.end;) {
          if (j != i + 1) *out += ',';
          j = Value(t, j, items, out);
        }
        *out += ']';
        return tok.end + 1;
      }
      default:
        Leaf(tok, rule != nullptr && rule->keep ? rule : nullptr, out);
        return i + 1;
    }
  }

  // A leaf, kept if `rule` allows its value, else pseudonymized (or null).
  void Leaf(const JsonToken& tok, const PathRule* rule, std::string* out) {
    switch (tok.type) {
      case JsonToken::kNull:
        *out += "null";
        return;
      case JsonToken::kString:
        if (rule != nullptr && rule->Keeps(tok.text())) {
          AppendJsonString(out, tok.text());
        } else {
          p_->AppendPseudonymString(tok.text(), out);
        }
        return;
      case JsonToken::kNumber:
      case JsonToken::kTrue:
      case JsonToken::kFalse: {
        std::string_view text = tok.type == JsonToken::kNumber ? tok.text()
                                : tok.type == JsonToken::kTrue ? std::string_view("true")
                                                               : std::string_view("false");
        if (rule != nullptr && rule->Keeps(text)) {
          *out += text;
        } else if (p_->allowlist_.non_string_policy() == NonStringPolicy::kPseudonym) {
          p_->AppendPseudonymString(text, out);
        } else {
          *out += "null";
        }
        return;
      }
      default:
        return;  // containers are handled by Plain
    }
  }

  // A leaf kept whatever its value (an allowlisted atomic field or parameter).
  void KeptLeaf(const JsonToken& tok, std::string* out) {
    static const PathRule kKeepAll = [] {
      PathRule r;
      r.keep = true;
      return r;
    }();
    Leaf(tok, &kKeepAll, out);
  }

  size_t JsonText(const JsonTape& t, size_t i, std::string* out) {
    if (t[i].type != JsonToken::kString) return Plain(t, i, nullptr, out);
    std::string rewritten;
    if (RewriteText(t[i].text(), &rewritten)) {
      AppendJsonString(out, rewritten);
    } else {
      p_->AppendPseudonymString(t[i].text(), out);
    }
    return i + 1;
  }

  size_t Base64JsonText(const JsonTape& t, size_t i, std::string* out) {
    if (t[i].type != JsonToken::kString) return Plain(t, i, nullptr, out);
    std::string_view encoded = t[i].text();
    std::string decoded, rewritten;
    if (DecodeBase64Url(encoded, &decoded) && RewriteText(decoded, &rewritten)) {
      bool padded = !encoded.empty() && encoded.back() == '=';
      AppendJsonString(out, EncodeBase64Url(rewritten, padded));
    } else {
      p_->AppendPseudonymString(encoded, out);
    }
    return i + 1;
  }

  size_t EnrichedEvent(const JsonTape& t, size_t i, std::string* out) {
    if (t[i].type != JsonToken::kStartObject) return Plain(t, i, nullptr, out);
    *out += '{';
    for (size_t j = i + 1; j < t[i].end;) {
      std::string_view key = t[j].text();
      AppendMemberName(out, key, j != i + 1 ? ',' : '\0');
      const size_t v = j + 1;
      auto index = event::FieldIndexByName(key);
      if (index && p_->allowlist_.KeepsField(*index) && IsLeaf(t[v].type)) {
        KeptLeaf(t[v], out);
        j = v + 1;
      } else if (index && event::IsJsonField(*index) && t[v].type == JsonToken::kString) {
        j = JsonText(t, v, out);
      } else if (index && event::IsJsonField(*index) && t[v].type == JsonToken::kStartObject) {
        j = SelfDescribing(t, v, out);
      } else {
        j = Plain(t, v, nullptr, out);
      }
    }
    *out += '}';
    return t[i].end + 1;
  }

  size_t ParameterValue(std::string_view name, const JsonTape& t, size_t v, std::string* out) {
    switch (p_->allowlist_.ActionForParameter(name)) {
      case ParameterAction::kKeep:
        if (IsLeaf(t[v].type)) {
          KeptLeaf(t[v], out);
          return v + 1;
        }
        break;
      case ParameterAction::kReadJson:
        return JsonText(t, v, out);
      case ParameterAction::kReadJsonBase64Url:
        return Base64JsonText(t, v, out);
      case ParameterAction::kPseudonymize:
        break;
    }
    return Plain(t, v, nullptr, out);
  }

  size_t TrackerParameters(const JsonTape& t, size_t i, std::string* out) {
    const JsonToken& tok = t[i];
    if (tok.type == JsonToken::kStartObject) {  // {name: value}
      *out += '{';
      for (size_t j = i + 1; j < tok.end;) {
        AppendMemberName(out, t[j].text(), j != i + 1 ? ',' : '\0');
        j = ParameterValue(t[j].text(), t, j + 1, out);
      }
      *out += '}';
      return tok.end + 1;
    }
    if (tok.type != JsonToken::kStartArray) return Plain(t, i, nullptr, out);
    *out += '[';  // [{name, value}]
    for (size_t e = i + 1; e < tok.end;) {
      if (e != i + 1) *out += ',';
      std::string_view name;
      bool named = false;
      if (t[e].type == JsonToken::kStartObject) {
        for (size_t j = e + 1; j < t[e].end; j = t.Skip(j + 1)) {
          if (t[j].text() == "name" && t[j + 1].type == JsonToken::kString) {
            name = t[j + 1].text();
            named = true;
          }
        }
      }
      if (!named) {
        e = Plain(t, e, nullptr, out);
        continue;
      }
      *out += '{';
      for (size_t j = e + 1; j < t[e].end;) {
        std::string_view key = t[j].text();
        AppendMemberName(out, key, j != e + 1 ? ',' : '\0');
        if (key == "name" && t[j + 1].type == JsonToken::kString) {
          AppendJsonString(out, t[j + 1].text());
          j += 2;
        } else if (key == "value") {
          j = ParameterValue(name, t, j + 1, out);
        } else {
          j = Plain(t, j + 1, nullptr, out);
        }
      }
      *out += '}';
      e = t[e].end + 1;
    }
    *out += ']';
    return tok.end + 1;
  }

  size_t HttpHeaders(const JsonTape& t, size_t i, std::string* out) {
    const JsonToken& tok = t[i];
    if (tok.type != JsonToken::kStartArray) return Plain(t, i, nullptr, out);
    *out += '[';
    for (size_t j = i + 1; j < tok.end;) {
      if (j != i + 1) *out += ',';
      if (t[j].type != JsonToken::kString) {
        j = Plain(t, j, nullptr, out);
        continue;
      }
      std::string_view header = t[j].text();
      size_t colon = header.find(':');
      if (colon == std::string_view::npos) {
        p_->AppendPseudonymString(header, out);
      } else if (p_->allowlist_.KeepsHeader(header.substr(0, colon))) {
        AppendJsonString(out, header);
      } else {
        std::string_view value = header.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        std::string rewritten(header.substr(0, colon));
        rewritten += ": ";
        p_->AppendPseudonym(value, &rewritten);
        AppendJsonString(out, rewritten);
      }
      ++j;
    }
    *out += ']';
    return tok.end + 1;
  }

  Pseudonymizer* p_;
  int depth_ = 0;
};

Pseudonymizer::Pseudonymizer(const PseudonymHasher& hasher, const Allowlist& allowlist,
                             MetricsRegistry* metrics, const Clock* clock,
                             PseudonymizerOptions options)
    : hasher_(hasher), allowlist_(allowlist), clock_(clock), options_(std::move(options)) {
  if (options_.key_id_prefix && !options_.key_id.empty()) prefix_ = options_.key_id + ":";
  constexpr char kLines[] = "furrow_pseudonymize_lines_total";
  constexpr char kLinesHelp[] = "Lines written by the pseudonymizer, by kind";
  events_ = &metrics->GetCounter(kLines, kLinesHelp, {{"kind", "enriched_event"}});
  bad_rows_ = &metrics->GetCounter(kLines, kLinesHelp, {{"kind", "bad_row"}});
  generic_errors_ = &metrics->GetCounter(kLines, kLinesHelp, {{"kind", "generic_error"}});
  constexpr char kInvalid[] = "furrow_pseudonymize_invalid_lines_total";
  constexpr char kInvalidHelp[] = "Unreadable input lines replaced by generic_error bad rows, by reason";
  invalid_field_count_ = &metrics->GetCounter(kInvalid, kInvalidHelp, {{"reason", "field_count"}});
  invalid_json_column_ = &metrics->GetCounter(kInvalid, kInvalidHelp, {{"reason", "json_column"}});
  invalid_bad_row_ = &metrics->GetCounter(kInvalid, kInvalidHelp, {{"reason", "bad_row"}});
  invalid_too_long_ = &metrics->GetCounter(kInvalid, kInvalidHelp, {{"reason", "too_long"}});
  values_ = &metrics->GetCounter("furrow_pseudonymize_values_total",
                                 "Values replaced by their pseudonym");
  if (options_.cache_slots > 0) {
    size_t slots = 1;
    while (slots < options_.cache_slots) slots <<= 1;
    cache_.resize(slots);
    for (auto& slot : cache_) slot.size = 0;
    cache_mask_ = slots - 1;
  }
}

const PathRule* Pseudonymizer::FindSchema(std::string_view schema, bool* valid) {
  auto it = schema_cache_.find(schema);
  if (it != schema_cache_.end()) {
    *valid = it->second.valid;
    return it->second.rule;
  }
  const PathRule* rule = allowlist_.FindSchema(schema, valid);
  if (schema.size() <= kMaxCachedSchemaBytes) {
    if (schema_cache_.size() >= kMaxCachedSchemas) schema_cache_.clear();
    schema_cache_.emplace(std::string(schema), SchemaLookup{*valid, rule});
  }
  return rule;
}

Pseudonymizer::~Pseudonymizer() {
  if (!cache_.empty()) OPENSSL_cleanse(cache_.data(), cache_.size() * sizeof(CacheSlot));
}

const char* Pseudonymizer::CachedHex(std::string_view value) {
  const uint64_t hash = WindowHash(value);
  CacheSlot& slot = cache_[hash & cache_mask_];
  if (slot.hash != hash || slot.size != value.size() ||
      std::memcmp(slot.value, value.data(), value.size()) != 0) {
    uint8_t mac[32];
    hasher_.Mac(value, mac);
    HexEncode(mac, sizeof(mac), slot.hex);
    std::memcpy(slot.value, value.data(), value.size());
    slot.size = static_cast<uint8_t>(value.size());
    slot.hash = hash;
  }
  return slot.hex;
}

void Pseudonymizer::AppendPseudonym(std::string_view value, std::string* out) {
  ++pending_values_;
  *out += prefix_;
  if (cache_.empty() || value.empty() || value.size() > kMaxCachedValueBytes) {
    hasher_.AppendHex(value, out);
    return;
  }
  out->append(CachedHex(value), kPseudonymHexLength);
}

void Pseudonymizer::AppendPseudonymString(std::string_view value, std::string* out) {
  if (!prefix_.empty() || cache_.empty() || value.empty() || value.size() > kMaxCachedValueBytes) {
    *out += '"';
    AppendPseudonym(value, out);
    *out += '"';
    return;
  }
  ++pending_values_;
  const char* hex = CachedHex(value);
  char* d = Extend(out, kPseudonymHexLength + 2);
  d[0] = '"';
  std::memcpy(d + 1, hex, kPseudonymHexLength);
  d[kPseudonymHexLength + 1] = '"';
}

Status Pseudonymizer::ProcessEnrichedEvent(std::string_view line, std::string* out) {
  out->clear();
  out->reserve(line.size() + 2048);
  Walker walker(this);
  // Fields are handled as the tabs are found. Empty and allowlisted fields, with the
  // tabs around them, are copied from the line in runs: `copied` is where the part
  // not yet written starts. A malformed line is found at the end, and then `out` is
  // dropped.
  const char* copied = line.data();
  const uint64_t values_before = pending_values_;  // a malformed line counts none
  size_t broken_json = event::kFieldCount;  // the first JSON column that is not JSON
  const size_t count = event::ForEachTsvField(line, [&](size_t i, std::string_view f) {
    if (f.empty() || allowlist_.KeepsField(i) || broken_json != event::kFieldCount) return;
    out->append(copied, static_cast<size_t>(f.data() - copied));
    copied = f.data() + f.size();
    const event::ValueType type = event::FieldValueType(i);
    if (type == event::ValueType::kJson) {
      if (!walker.RewriteText(f, out)) broken_json = i;
    } else if (type == event::ValueType::kString ||
               allowlist_.non_string_policy() == NonStringPolicy::kPseudonym) {
      AppendPseudonym(f, out);
    }
    // else: a number, boolean or timestamp column cannot hold a pseudonym and still
    // parse as its type, so under the default policy it becomes null (empty).
  });
  if (count != event::kFieldCount) {
    pending_values_ = values_before;
    failure_ = invalid_field_count_;
    return event::FieldCountError(count);
  }
  if (broken_json != event::kFieldCount) {
    pending_values_ = values_before;
    failure_ = invalid_json_column_;
    return InvalidArgumentError("column " + std::string(event::kFieldNames[broken_json]) +
                                " is not valid JSON");
  }
  out->append(copied, static_cast<size_t>(line.data() + line.size() - copied));
  return Status::Ok();
}

Status Pseudonymizer::ProcessBadRow(std::string_view json, std::string* out) {
  failure_ = invalid_bad_row_;
  FURROW_RETURN_IF_ERROR(tape_.Parse(json));
  const auto& t = tape_;
  bool self_describing = false;
  if (t[0].type == JsonToken::kStartObject) {
    bool schema = false, data = false;
    for (size_t j = 1; j < t[0].end; j = t.Skip(j + 1)) {
      if (t[j].text() == "schema" && t[j + 1].type == JsonToken::kString &&
          IsIgluUri(t[j + 1].text(), false)) {
        schema = true;
      }
      if (t[j].text() == "data") data = true;
    }
    self_describing = schema && data;
  }
  if (!self_describing) {
    return InvalidArgumentError("bad row is not self-describing JSON with an Iglu schema and data");
  }
  out->clear();
  out->reserve(json.size() + 1024);
  Walker walker(this);
  walker.SelfDescribing(tape_, 0, out);
  return Status::Ok();
}

LineKind Pseudonymizer::ProcessLine(std::string_view line, std::string* out) {
  size_t first = line.find_first_not_of(" \r");
  const bool json = first != std::string_view::npos && line[first] == '{';
  Status s = json ? ProcessBadRow(line, out) : ProcessEnrichedEvent(line, out);
  FlushValueCount();
  if (s.ok()) {
    (json ? bad_rows_ : events_)->Inc();
    return json ? LineKind::kBadRow : LineKind::kEnrichedEvent;
  }
  failure_->Inc();
  GenericError(line, s.message(), out);
  FlushValueCount();
  return LineKind::kGenericError;
}

void Pseudonymizer::RejectOverlongLine(std::string_view prefix, size_t limit_bytes, std::string* out) {
  invalid_too_long_->Inc();
  GenericError(prefix, "line longer than " + std::to_string(limit_bytes) +
                           " bytes; the payload is the pseudonym of its first bytes", out);
  FlushValueCount();
}

void Pseudonymizer::FlushValueCount() {
  if (pending_values_ != 0) values_->Inc(pending_values_);
  pending_values_ = 0;
}

void Pseudonymizer::GenericError(std::string_view line, const std::string& error, std::string* out) {
  generic_errors_->Inc();
  std::string payload;
  AppendPseudonym(line, &payload);
  *out = badrows::GenericError(badrows::Processor::Furrow(), clock_->NowMillis(),
                               {"furrow pseudonymize: " + error}, payload);
}

}  // namespace furrow::pseudonymize
