// The allowlist: what pseudonymization leaves in the clear. Everything else is
// replaced by its pseudonym (default deny). The file format, every entry of the
// default allowlist and why it is safe are in docs/privacy.md; the default itself is
// config/allowlist.yaml, embedded in the binary.
//
//   version: 1
//   non_string_values: null        # or "pseudonym": what a JSON number or boolean
//                                  # that is not allowlisted becomes (default null)
//   fields: [app_id, platform, event, ...]     # atomic fields kept by name
//   parameters: [...]              # extra tracker parameters kept in bad rows (those
//                                  # that fill a field follow `fields`)
//   headers: [Content-Type]        # HTTP header names whose values are kept
//   schemas:                       # self-describing JSON, by schema criterion
//     - schema: iglu:com.gitlab/gitlab_standard/jsonschema/1-*-*   # or a list
//       keep:                      # property paths, relative to the entity's data
//         - environment            # a leaf kept as it is
//         - {path: failure.messages[].error, values: [INVALID_SCHEMAVER]}  # only these
//         - {path: failure.messages[].schemaKey, format: iglu}             # only if well-formed
//       read:                      # how to look inside a value (never keeps anything
//         - {path: payload.body, as: json_text}            # by itself)
//
// Paths: `a.b` member b of member a; `a[]` each element of array a; `$` the data
// itself. Only leaves (strings, numbers, booleans) are kept; an allowlisted path
// naming an object keeps nothing by itself. Formats: `iglu` (an Iglu URI or
// criterion), `token` (1-128 of [A-Za-z0-9._-]), `schemaver` (M-R-A).
// Readers: self_describing ({schema, data}: the data follows the rules of the schema
// it names), json_text (a string holding self-describing JSON), enriched_event (an
// object of atomic fields, as in enriched bad rows), tracker_parameters ([{name,
// value}] or {name: value}), http_headers (["Name: value"]).
//
// Errors: Parse and LoadFile return kInvalidArgument naming the line or entry at
// fault (an unknown key is an error, so a typo cannot silently widen or narrow the
// list); LoadFile returns kNotFound for a missing file.
//
// Thread safety: immutable after loading; safe for concurrent use.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "event/enriched_event.h"

namespace furrow::pseudonymize {

enum class NonStringPolicy {
  kNull,       // default: a number or boolean that is not allowlisted becomes null
  kPseudonym,  // it becomes the pseudonym (a string) of its JSON text
};

enum class ValueFormat { kAny, kIglu, kToken, kSchemaVer };

enum class Reader {
  kNone,
  kSelfDescribing,
  kJsonText,
  kEnrichedEvent,
  kTrackerParameters,
  kHttpHeaders,
};

// A cheap hash of a short string: its length and up to three 8-byte windows (start,
// end, and the middle of strings longer than 16 bytes), mixed. Good enough for
// member names, schema URIs and cache keys, where it replaces a byte-by-byte hash on
// the hot path; not for hostile keys (lookups compare the bytes, so a collision only
// costs time). Every load has a fixed width, so none goes through a partly written
// stack slot (a store-forwarding stall that used to cost more than the hash).
inline uint64_t WindowHash(std::string_view v) {
  const char* p = v.data();
  const size_t n = v.size();
  auto load64 = [](const char* at) {
    uint64_t x;
    std::memcpy(&x, at, 8);
    return x;
  };
  auto load32 = [](const char* at) {
    uint32_t x;
    std::memcpy(&x, at, 4);
    return uint64_t{x};
  };
  uint64_t first = 0, last = 0;
  if (n >= 8) {
    first = load64(p);
    last = load64(p + n - 8);
  } else if (n >= 4) {
    first = load32(p);
    last = load32(p + n - 4);
  } else if (n > 0) {
    first = uint64_t{static_cast<uint8_t>(p[0])} | uint64_t{static_cast<uint8_t>(p[n / 2])} << 8 |
            uint64_t{static_cast<uint8_t>(p[n - 1])} << 16;
  }
  uint64_t h = (n * 0x9E3779B97F4A7C15ull) ^ (first * 0xC2B2AE3D27D4EB4Full);
  h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull;
  h ^= last * 0x94D049BB133111EBull;
  if (n > 16) h ^= load64(p + n / 2 - 4) * 0xD6E8FEB86659FD93ull;
  h = (h ^ (h >> 31)) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}

// Hash and equality that let string-keyed maps be searched with a string_view.
struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return WindowHash(s); }
};

// One node of a schema's path tree.
struct PathRule {
  bool keep = false;
  ValueFormat format = ValueFormat::kAny;
  std::vector<std::string> values;  // when not empty, only these values are kept
  Reader reader = Reader::kNone;
  std::unordered_map<std::string, std::unique_ptr<PathRule>, StringViewHash, std::equal_to<>> members;
  std::unique_ptr<PathRule> items;  // "[]"

  // The child for member `name`, created if missing.
  PathRule* AddMember(std::string_view name);

  const PathRule* Member(std::string_view name) const {
    if (index.empty()) return nullptr;
    if (index.size() > kMaxScannedMembers) {
      auto it = members.find(name);
      return it == members.end() ? nullptr : it->second.get();
    }
    // A node has few members: comparing hashes in a line beats a hash table's
    // bucket division and pointer chase on every member of every object walked.
    const uint64_t hash = WindowHash(name);
    for (const MemberEntry& e : index) {
      if (e.hash == hash && e.name == name) return e.rule;
    }
    return nullptr;
  }
  // True if a leaf with this text (a string's bytes, a number's or boolean's JSON text)
  // may be kept at this node.
  bool Keeps(std::string_view text) const;

 private:
  static constexpr size_t kMaxScannedMembers = 24;
  struct MemberEntry {
    uint64_t hash;
    std::string_view name;  // the key in `members`
    const PathRule* rule;
  };
  std::vector<MemberEntry> index;  // `members` in insertion order
};

// What happens to a tracker parameter's value inside a bad row.
enum class ParameterAction {
  kPseudonymize,
  kKeep,
  kReadJson,           // ue_pr, co
  kReadJsonBase64Url,  // ue_px, cx
};

class Allowlist {
 public:
  static Result<Allowlist> Parse(std::string_view yaml_text);
  static Result<Allowlist> LoadFile(const std::filesystem::path& path);
  // The embedded default (config/allowlist.yaml).
  static Result<Allowlist> Default();
  static std::string_view DefaultText();

  Allowlist(Allowlist&&) noexcept = default;
  Allowlist& operator=(Allowlist&&) noexcept = default;

  NonStringPolicy non_string_policy() const { return non_string_; }
  bool KeepsField(size_t index) const { return fields_[index]; }
  ParameterAction ActionForParameter(std::string_view name) const;
  // Case-insensitive.
  bool KeepsHeader(std::string_view name) const;
  // The rules for the data of a schema, or nullptr when no entry matches (then
  // everything in it is pseudonymized). `iglu_uri` is "iglu:vendor/name/format/M-R-A".
  // When `valid` is given, it is set to whether `iglu_uri` is a well-formed Iglu URI.
  const PathRule* FindSchema(std::string_view iglu_uri, bool* valid = nullptr) const;

 private:
  struct SchemaEntry {
    int model;
    int revision;  // -1 for *
    int addition;  // -1 for *
    std::shared_ptr<PathRule> rule;
  };
  Allowlist() = default;

  NonStringPolicy non_string_ = NonStringPolicy::kNull;
  std::array<bool, event::kFieldCount> fields_{};
  std::unordered_map<std::string, ParameterAction, StringViewHash, std::equal_to<>> parameters_;
  std::vector<std::string> headers_;  // lowercase
  // By "vendor/name/format".
  std::map<std::string, std::vector<SchemaEntry>, std::less<>> schemas_;

  friend class AllowlistParser;
};

// True for a well-formed Iglu URI "iglu:vendor/name/format/M-R-A" (when
// `allow_wildcards`, REVISION and ADDITION may be "*").
bool IsIgluUri(std::string_view text, bool allow_wildcards);

}  // namespace furrow::pseudonymize
