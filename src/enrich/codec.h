// Base64 as the tracker protocol uses it (ue_px, cx): standard or URL-safe
// alphabet, padded or not. Query strings are parsed by tracker/query_string.h.
//
// Pure functions over untrusted bytes; they never assert. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace furrow::enrich {

// Decodes base64 in either alphabet ('-' '_' or '+' '/'), with or without '='
// padding; surrounding whitespace is ignored. nullopt if the text is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

// Standard padded base64 (for tests and tools).
std::string Base64Encode(std::string_view bytes);

}  // namespace furrow::enrich
