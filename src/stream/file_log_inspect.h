// Read-only inspection of file-log streams (for `furrow stream list/dump` and
// tests): works while another process has the stream open, never takes its lock,
// never truncates, never moves a reader.
//
// What it sees: every complete, checksummed record in the segment files. While a
// writer is running this can include records written but not yet made durable;
// a torn or half-written tail is simply where reading ends (not an error).
//
// Safe for concurrent use (each call opens its own file descriptors).
// Errors: kNotFound if the stream directory does not exist, kIoError from the OS,
// kInvalidArgument for a bad stream name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "stream/stream.h"

namespace furrow::stream {

// Names of the stream directories under `root` (sorted). A missing root is an
// empty list.
Result<std::vector<std::string>> ListStreamNames(const std::string& root);

// Records, offsets, bytes and reader positions of stream `name` under `root`.
// `records` counts the offsets between the first retained one and the end.
Result<StreamInfo> InspectStream(const std::string& root, const std::string& name);

// Calls `on_record` for each record of `name` from `from_offset` (or the first
// retained record if that is later) in order, until it returns false or the
// records end. Damage inside a sealed (older) segment is reported to
// `on_damage` (kDataLoss) and reading continues with the next segment; if
// `on_damage` is empty the damage is returned as the error instead.
Status ReadStream(const std::string& root, const std::string& name, uint64_t from_offset,
                  const std::function<bool(const Record&)>& on_record,
                  const std::function<void(const Status&)>& on_damage = nullptr);

}  // namespace furrow::stream
