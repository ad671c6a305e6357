// Names and small files of a stream directory (docs/stream-log.md):
//
//   ROOT/NAME/LOCK                       held with flock() by the opening process
//   ROOT/NAME/00000000000000000000.log   segments, named by their first offset
//   ROOT/NAME/readers/READER.pos         a reader's committed position
//
// A position file holds two text lines, "furrow-reader-position 1" and
// "next_offset N", and is replaced atomically (temp file, fsync, rename, fsync of
// the directory).
//
// Pure functions and blocking file I/O; safe for concurrent use on different
// files. Errors: kIoError from the OS, kDataLoss for a malformed position file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/durable_file.h"  // WriteFileAtomically, CreateDirectories, ...
#include "core/status.h"

namespace furrow::stream {

inline constexpr char kReadersDir[] = "readers";
inline constexpr char kLockFile[] = "LOCK";

// "00000000000000001234.log" for base offset 1234.
std::string SegmentFileName(uint64_t base_offset);
// The base offset of a segment file name; nullopt for any other name.
std::optional<uint64_t> ParseSegmentFileName(std::string_view name);

// Base offsets of the segment files in `dir`, ascending.
Result<std::vector<uint64_t>> ListSegments(const std::string& dir);

// Names of the position files in `dir`/readers (without ".pos"), sorted.
Result<std::vector<std::string>> ListReaders(const std::string& stream_dir);

Result<uint64_t> ReadReaderPosition(const std::string& stream_dir, const std::string& reader);
Status WriteReaderPosition(const std::string& stream_dir, const std::string& reader,
                           uint64_t next_offset);

}  // namespace furrow::stream
