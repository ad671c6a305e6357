// furrow's built-in Iglu schemas: the texts in schemas/ at the repository root,
// compiled into the binary at build time (a CMake step generates
// builtin_schemas_data.cc from the files listed in src/iglu/CMakeLists.txt).
//
// They let furrow run offline: the tracker-protocol wrappers (payload_data,
// contexts, unstruct_event), ua_parser_context, the enrichment configs furrow
// supports, the bad rows it emits and the atomic event schema. They are written
// for furrow from the documented structures, not copied from Iglu Central.
//
// Thread safety: the data is immutable static storage; every function may be
// called from any thread.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "iglu/schema_key.h"

namespace furrow::iglu {

struct BuiltinSchema {
  std::string_view path;  // "vendor/name/format/M-R-A"
  std::string_view text;  // the JSON schema
};

// Every built-in schema, sorted by path.
const std::vector<BuiltinSchema>& BuiltinSchemas();

// The text of the built-in schema `key`, if there is one.
std::optional<std::string_view> FindBuiltinSchema(const SchemaKey& key);

}  // namespace furrow::iglu
