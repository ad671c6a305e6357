// Timestamp formats used across furrow. All UTC, all from milliseconds since epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace furrow {

// 2026-11-25T10:00:00.123Z (logs, JSON).
std::string FormatIso8601Millis(int64_t epoch_ms);

// 2026-11-25 10:00:00.123 (Snowplow's enriched TSV timestamp format).
std::string FormatSqlMillis(int64_t epoch_ms);

// Parses "YYYY-MM-DD[ T]HH:MM:SS[.fff][Z]" as UTC; nullopt if malformed.
std::optional<int64_t> ParseTimestampMillis(std::string_view text);

}  // namespace furrow
