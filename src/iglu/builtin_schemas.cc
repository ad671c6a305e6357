#include "iglu/builtin_schemas.h"

#include <algorithm>

#include "iglu/builtin_schemas_data.h"

namespace furrow::iglu {

const std::vector<BuiltinSchema>& BuiltinSchemas() {
  static const std::vector<BuiltinSchema>* schemas = [] {
    auto* all = new std::vector<BuiltinSchema>(
        internal::kBuiltinSchemaData, internal::kBuiltinSchemaData + internal::kBuiltinSchemaCount);
    std::sort(all->begin(), all->end(),
              [](const BuiltinSchema& a, const BuiltinSchema& b) { return a.path < b.path; });
    return all;
  }();
  return *schemas;
}

std::optional<std::string_view> FindBuiltinSchema(const SchemaKey& key) {
  const std::vector<BuiltinSchema>& all = BuiltinSchemas();
  const std::string path = key.ToPath();
  auto it = std::lower_bound(all.begin(), all.end(), path,
                             [](const BuiltinSchema& s, const std::string& p) { return s.path < p; });
  if (it == all.end() || it->path != path) return std::nullopt;
  return it->text;
}

}  // namespace furrow::iglu
