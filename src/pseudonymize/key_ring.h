// The key ring: the secret keys pseudonyms are computed with, each with an id, one
// of them active.
//
// Where keys come from (never from the command line):
//   * a key file: the file's bytes, without ONE trailing newline, are the key, so
//     `openssl dgst -sha256 -hmac "$(cat FILE)"` computes the same pseudonyms. Its
//     id is the key's check value: the first 12 hex characters of
//     HMAC-SHA256(key, "furrow key id"), stable across restarts and machines and
//     useless for recovering the key.
//   * a key-ring file (YAML), for rotation:
//         active: 2026-01            # the id of the key new pseudonyms use
//         keys:
//           - id: 2025-07            # [A-Za-z0-9._-], 1 to 64 characters
//             file: 2025-07.key      # a key file; relative to the ring file's folder
//           - id: 2026-01
//             file: /etc/furrow/keys/2026-01.key
//   * the pipeline's own key, DATA_DIR/keys/pseudonymize.key (mode 0600), created by
//     the pipeline on its first start (LoadOrCreatePipelineKey): 32 random bytes from
//     OpenSSL's RAND_bytes, written as 64 hex characters so it can be used with
//     `$(cat FILE)` in a shell.
//
// Errors: a missing or unreadable file is kNotFound / kPermissionDenied / kIoError,
// an empty key kInvalidArgument, a malformed ring kInvalidArgument. Messages name
// the file, never its content. The key bytes are not kept after the hashers are
// built; nothing in this interface returns them.
//
// Thread safety: a KeyRing is immutable after loading; safe for concurrent use.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pseudonymize/pseudonym.h"

namespace YAML {
class Node;
}

namespace furrow::pseudonymize {

class KeyRing {
 public:
  // One key from a key file (see above); it is the active key.
  static Result<KeyRing> FromKeyFile(const std::filesystem::path& path);
  // A YAML key ring (see above).
  static Result<KeyRing> FromRingFile(const std::filesystem::path& path);
  // One key from bytes, with its check value as id (tests, the pipeline key).
  static Result<KeyRing> FromKeyBytes(std::string_view key_bytes);

  KeyRing(KeyRing&&) noexcept = default;
  KeyRing& operator=(KeyRing&&) noexcept = default;

  // The id recorded with every output batch.
  const std::string& active_id() const { return keys_[active_].id; }
  const PseudonymHasher& active() const { return keys_[active_].hasher; }
  // The hasher of the key with this id, or nullptr.
  const PseudonymHasher* Find(std::string_view id) const;
  // Every id, in file order.
  std::vector<std::string> ids() const;

 private:
  struct Entry {
    std::string id;
    PseudonymHasher hasher;
  };
  KeyRing() = default;
  static Result<KeyRing> ParseRing(const YAML::Node& root, const std::filesystem::path& path,
                                   const std::string& where);
  std::vector<Entry> keys_;
  size_t active_ = 0;
};

// The check-value id of a key (see above).
std::string KeyCheckValue(const PseudonymHasher& hasher);

// True if `id` is 1 to 64 characters of [A-Za-z0-9._-].
bool IsValidKeyId(std::string_view id);

// The bytes of a key file: its content without one trailing "\n".
Result<std::string> ReadKeyFile(const std::filesystem::path& path);

// Where the pipeline keeps its key: DATA_DIR/keys/pseudonymize.key.
std::filesystem::path PipelineKeyPath(const std::filesystem::path& data_dir);

// Loads the pipeline's key, creating it (and DATA_DIR/keys, mode 0700) first if it
// does not exist. Creation is atomic: a temporary file is written, fsynced and linked
// into place, so two processes starting at once end up with the same key.
Result<KeyRing> LoadOrCreatePipelineKey(const std::filesystem::path& data_dir);

// Where a command finds its key, highest precedence first. Empty means unset.
struct KeySource {
  std::string key_file;       // --key-file
  std::string key_ring_file;  // --key-ring
  std::string data_dir;       // --data-dir: the pipeline key (loaded, never created)
};

// Environment variables consulted when neither --key-file nor --key-ring is given.
inline constexpr char kKeyFileEnv[] = "FURROW_PSEUDONYMIZE_KEY_FILE";
inline constexpr char kKeyRingEnv[] = "FURROW_PSEUDONYMIZE_KEY_RING";

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// Loads the key ring by precedence: --key-file, --key-ring, $FURROW_PSEUDONYMIZE_KEY_FILE,
// $FURROW_PSEUDONYMIZE_KEY_RING, the pipeline key of --data-dir. None of them is
// kFailedPrecondition with a message saying how to provide a key.
Result<KeyRing> LoadKeyRing(const KeySource& source, const EnvLookup& getenv);

}  // namespace furrow::pseudonymize
