// The generated table behind builtin_schemas.h (internal to furrow_iglu).
#pragma once

#include <cstddef>

#include "iglu/builtin_schemas.h"

namespace furrow::iglu::internal {

extern const BuiltinSchema kBuiltinSchemaData[];
extern const size_t kBuiltinSchemaCount;

}  // namespace furrow::iglu::internal
