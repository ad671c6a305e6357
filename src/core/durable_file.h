// Small durable files: whole-file replacement that survives a crash or power loss
// (the pattern behind stream reader positions and stage journals).
//
//   FURROW_RETURN_IF_ERROR(CreateDirectories(data_dir + "/enrich"));
//   FURROW_RETURN_IF_ERROR(WriteFileAtomically(data_dir + "/enrich/x.journal", text));
//
// WriteFileAtomically writes PATH.tmp, fsyncs it, renames it over PATH and fsyncs the
// directory: a reader (or the next run after a crash) sees the old contents or the new
// ones, never a mix. Blocking file I/O; safe for concurrent use on different paths.
// Errors: kIoError (with errno's text) from the OS.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow {

// Writes `contents` to `path` atomically and durably (see above).
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// fsync() of a directory, so that entries created or renamed in it are durable.
Status FsyncDirectory(const std::string& dir);

// Creates `dir` (and missing parents) if needed; fsyncs the parent of each
// directory it created.
Status CreateDirectories(const std::string& dir);

// Writes all of `data` at the current file offset (retrying short writes).
Status WriteAll(int fd, std::string_view data);

}  // namespace furrow
