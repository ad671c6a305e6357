// Query strings as trackers send them: `a=1&b=x%20y&c=`.
//
// Parsing never fails: malformed escapes are kept literally, empty pairs are
// skipped, a pair without '=' has an empty value. Values are decoded with
// application/x-www-form-urlencoded rules ('+' is a space). Pure functions;
// safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace furrow::tracker {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Decodes %XX escapes and '+' (as a space). Invalid escapes are copied as they are.
// The result may hold any bytes, including invalid UTF-8 and NUL.
std::string PercentDecode(std::string_view text);

// Encodes everything but unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(std::string_view text);

// All pairs, decoded, in order (duplicates kept).
QueryParams ParseQueryString(std::string_view query);

// The decoded value of the first parameter named `name` (compared after decoding).
std::optional<std::string> FindQueryParam(std::string_view query, std::string_view name);

}  // namespace furrow::tracker
