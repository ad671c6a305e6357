// ObjectStore: where furrow's output files live (the "lake").
//
// An object store maps keys ("output/2026/11/25/10/part-0001.tsv.gz") to immutable
// byte strings with a small map of string metadata. Two implementations exist:
// LocalObjectStore (a directory, the embedded default: DATA_DIR/lake) and
// S3ObjectStore (an S3 bucket or an S3-compatible store). Stages depend on this
// interface only; src/app/lake.cc is the one place that picks an implementation.
// See docs/object-store.md for the layout and the atomicity guarantees.
//
// Contract shared by every implementation:
//   * Put/PutFile make the object appear atomically: a concurrent Get, Head or List
//     sees either nothing (or the previous object under that key) or the whole new
//     object, never a prefix of it. Put over an existing key replaces it.
//   * Keys are validated by ValidateKey (below); an invalid key is kInvalidArgument.
//     Metadata is validated by ValidateMetadata.
//   * Get/Head of a key that does not exist return kNotFound.
//   * Delete of a key that does not exist succeeds (as in S3).
//   * List visits the objects whose key starts with `prefix` (a plain string prefix,
//     not necessarily ending in '/') in ascending byte order of their keys;
//     pagination is handled inside. List results carry key and size only; use Head
//     for metadata.
//   * Errors use the most specific code: kNotFound, kPermissionDenied (credentials,
//     file modes), kUnavailable (the store cannot be reached now, after the
//     implementation's own retries; retrying later may help), kDeadlineExceeded,
//     kInvalidArgument (bad key or metadata, or the store rejected the request as
//     malformed), kIoError (the local file system refused), kDataLoss (stored
//     metadata is corrupt).
//
// Thread safety: every implementation is safe for concurrent use by several
// threads. Concurrent Puts to the same key leave one of them in place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace furrow::storage {

// User metadata of an object: lowercase names ([a-z0-9-], 1..64 bytes) to printable
// ASCII values. On S3 each pair is an x-amz-meta-NAME header; locally it is a sidecar
// file (docs/object-store.md). At most 2 KiB in total (S3's limit).
using ObjectMetadata = std::map<std::string, std::string>;

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Filled by Head; empty in List results.
  ObjectMetadata metadata;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `bytes` under `key`.
  [[nodiscard]] virtual Status Put(std::string_view key, std::string_view bytes,
                                   const ObjectMetadata& metadata) = 0;
  // Stores the contents of the local file `file` under `key`, streaming it (the file
  // is not read into memory whole). The file is left in place.
  [[nodiscard]] virtual Status PutFile(std::string_view key, const std::filesystem::path& file,
                                       const ObjectMetadata& metadata) = 0;
  // The whole object.
  [[nodiscard]] virtual Result<std::string> Get(std::string_view key) = 0;
  // Size and metadata.
  [[nodiscard]] virtual Result<ObjectInfo> Head(std::string_view key) = 0;
  // Calls `visit` for each object under `prefix`, in key order. A non-OK status from
  // `visit` stops the listing and is returned.
  [[nodiscard]] virtual Status ForEach(std::string_view prefix,
                                       const std::function<Status(const ObjectInfo&)>& visit) = 0;
  [[nodiscard]] virtual Status Delete(std::string_view key) = 0;

  // Where the store points, for logs and messages: "/var/lake" or "s3://bucket/prefix".
  // Never contains credentials.
  virtual std::string Describe() const = 0;

  // Every object under `prefix`, in key order (ForEach collected into a vector).
  [[nodiscard]] Result<std::vector<ObjectInfo>> List(std::string_view prefix);
};

// Longest key accepted (S3's limit, in bytes).
inline constexpr size_t kMaxKeyBytes = 1024;
// Largest total of metadata names and values (S3's limit for user metadata).
inline constexpr size_t kMaxMetadataBytes = 2048;

// A valid key is 1..kMaxKeyBytes bytes of '/'-separated non-empty segments, with no
// leading or trailing '/', no control characters, and no segment that starts with
// '.' (so no "." or "..": keys map safely onto paths, and dot names are reserved for
// the local store's temporary and metadata files). kInvalidArgument otherwise.
[[nodiscard]] Status ValidateKey(std::string_view key);
// A List prefix: empty, or a valid key optionally followed by '/', or a valid key
// whose last segment is incomplete (any prefix of a valid key is accepted).
[[nodiscard]] Status ValidatePrefix(std::string_view prefix);
// Names [a-z0-9-] of 1..64 bytes, values of printable ASCII (0x20..0x7e) without
// leading or trailing spaces, at most kMaxMetadataBytes in total.
[[nodiscard]] Status ValidateMetadata(const ObjectMetadata& metadata);

}  // namespace furrow::storage
