// LocalObjectStore: an ObjectStore in a directory of the local file system (the
// embedded default, DATA_DIR/lake).
//
// Key "a/b/c.gz" is the file ROOT/a/b/c.gz, so other tools read the lake directly.
// Atomicity: Put writes a temporary file in the same directory
// (".tmp.PID.RANDOM", invisible to List), fsyncs it, renames it over the final name
// and fsyncs the directory; a reader sees the old object or the whole new one, and
// after Put returns the object survives a crash. Directories created on the way are
// fsynced into their parents too.
//
// Metadata lives in a sidecar file ".meta.NAME" beside the object (a JSON object of
// string values), written the same atomic way *before* the object is renamed into
// place, so an object never appears without its metadata. Sidecars are invisible to
// List. Overwriting a key whose metadata changes has a short window in which Head
// returns the new metadata with the old object (furrow's writers never overwrite:
// their file names are unique).
//
// Start-up: Open removes temporary files left by processes that no longer run (the
// PID in the name is not alive, or is this process's own). Temporary files of other
// live processes sharing the lake are left alone.
//
// Thread safety: safe for concurrent use; all state is in the file system.
// Errors: kNotFound (no such object), kPermissionDenied (EACCES/EPERM), kIoError
// (other system errors, with strerror), kDataLoss (a corrupt sidecar),
// kInvalidArgument (key, metadata, or a key segment longer than kMaxLocalSegmentBytes).
#pragma once

#include <filesystem>
#include <memory>

#include "storage/object_store.h"

namespace furrow::storage {

// Longest key segment the local store accepts, leaving room for the ".meta." and
// temporary-name prefixes within the usual 255-byte file name limit.
inline constexpr size_t kMaxLocalSegmentBytes = 240;

class LocalObjectStore final : public ObjectStore {
 public:
  // Creates `root` (and its parents) if needed and removes stale temporary files.
  [[nodiscard]] static Result<std::unique_ptr<LocalObjectStore>> Open(
      const std::filesystem::path& root);

  Status Put(std::string_view key, std::string_view bytes,
             const ObjectMetadata& metadata) override;
  Status PutFile(std::string_view key, const std::filesystem::path& file,
                 const ObjectMetadata& metadata) override;
  Result<std::string> Get(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status ForEach(std::string_view prefix,
                 const std::function<Status(const ObjectInfo&)>& visit) override;
  Status Delete(std::string_view key) override;
  std::string Describe() const override { return root_.string(); }

  const std::filesystem::path& root() const { return root_; }

  // Whether `name` (a file name, not a path) is one of the store's temporary files.
  static bool IsTemporaryName(std::string_view name);

 private:
  explicit LocalObjectStore(std::filesystem::path root) : root_(std::move(root)) {}

  // Source of the bytes of a Put: a buffer or an open file descriptor.
  struct Source;
  Status PutFrom(std::string_view key, const Source& source, const ObjectMetadata& metadata);
  Status RemoveStaleTemporaries();

  std::filesystem::path root_;
};

}  // namespace furrow::storage
