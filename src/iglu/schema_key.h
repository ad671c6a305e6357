// Iglu schema identities: SchemaVer, SchemaKey and SchemaCriterion.
//
//   iglu:com.acme/button_click/jsonschema/1-0-2
//        ^vendor  ^name        ^format    ^SchemaVer MODEL-REVISION-ADDITION
//
// SchemaVer: MODEL >= 1, REVISION >= 0, ADDITION >= 0, decimal without leading zeros
// (so "1-0-0" and "10-2-13" parse; "0-1-0", "1-01-0", "1-0" do not).
// Allowed characters (Iglu's own rules): vendor [A-Za-z0-9_.-]+, name and format
// [A-Za-z0-9_-]+. Each part is at most 255 bytes. furrow also rejects vendors that
// start or end with '.' or contain "..", so that a key never walks out of a
// directory registry.
//
// A SchemaCriterion is a key whose REVISION and ADDITION may be `*`:
// `iglu:com.acme/button_click/jsonschema/1-*-*` matches every 1-x-y; `1-0-*` every
// 1-0-y. MODEL is never a wildcard, and ADDITION may only be concrete when REVISION
// is (`1-*-0` is rejected).
//
// All types are plain values: copy freely, not synchronised, safe to share const.
// Parse functions never throw: malformed input (untrusted, it comes from events)
// is kInvalidArgument with a message naming what is wrong.
#pragma once

#include <compare>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::iglu {

struct SchemaVer {
  int model = 1;
  int revision = 0;
  int addition = 0;

  // Parses "M-R-A". Errors: kInvalidArgument.
  static Result<SchemaVer> Parse(std::string_view text);
  // "M-R-A".
  std::string ToString() const;

  friend auto operator<=>(const SchemaVer&, const SchemaVer&) = default;
  friend bool operator==(const SchemaVer&, const SchemaVer&) = default;
};

struct SchemaKey {
  std::string vendor;
  std::string name;
  std::string format;
  SchemaVer version;

  // Parses "iglu:vendor/name/format/M-R-A". Errors: kInvalidArgument.
  static Result<SchemaKey> ParseUri(std::string_view uri);
  // Parses the registry path form "vendor/name/format/M-R-A". Errors: kInvalidArgument.
  static Result<SchemaKey> ParsePath(std::string_view path);

  // "iglu:vendor/name/format/M-R-A".
  std::string ToUri() const;
  // "vendor/name/format/M-R-A" (the layout of registries under schemas/).
  std::string ToPath() const;

  friend bool operator==(const SchemaKey&, const SchemaKey&) = default;
  friend auto operator<=>(const SchemaKey&, const SchemaKey&) = default;
};

struct SchemaCriterion {
  std::string vendor;
  std::string name;
  std::string format;
  int model = 1;
  std::optional<int> revision;  // nullopt = `*`
  std::optional<int> addition;  // nullopt = `*`

  // Parses "iglu:vendor/name/format/M-R-A" where R and A may be `*`.
  // Errors: kInvalidArgument.
  static Result<SchemaCriterion> Parse(std::string_view uri);

  // True when vendor, name, format and model are equal and revision/addition are
  // equal or wildcards.
  bool Matches(const SchemaKey& key) const;

  // "iglu:vendor/name/format/M-R-A" with `*` for wildcards.
  std::string ToUri() const;

  friend bool operator==(const SchemaCriterion&, const SchemaCriterion&) = default;
};

// True if `vendor` is a valid Iglu vendor (see the banner).
bool IsValidVendor(std::string_view vendor);

}  // namespace furrow::iglu

template <>
struct std::hash<furrow::iglu::SchemaKey> {
  size_t operator()(const furrow::iglu::SchemaKey& key) const noexcept;
};
