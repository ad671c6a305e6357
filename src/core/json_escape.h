// Minimal JSON string escaping for hand-built JSON (log lines, metrics labels,
// bad rows built on the hot path). Produces valid JSON for any input bytes: invalid
// UTF-8 sequences are replaced by U+FFFD so that output always parses.
#pragma once

#include <string>
#include <string_view>

namespace furrow {

// Appends `value` as a quoted JSON string.
void AppendJsonString(std::string* out, std::string_view value);

// Appends the escaped body of a JSON string (without quotes).
void AppendJsonEscaped(std::string* out, std::string_view value);

// True if `value` is well-formed UTF-8.
bool IsValidUtf8(std::string_view value);

}  // namespace furrow
