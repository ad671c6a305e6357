#include "pseudonymize/key_ring.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace furrow::pseudonymize {
namespace {

constexpr char kKeyIdMessage[] = "furrow key id";
constexpr size_t kKeyCheckValueLength = 12;
constexpr size_t kGeneratedKeyBytes = 32;

Status FileError(const std::filesystem::path& path, int errno_value) {
  std::string what = "cannot read key file " + path.string();
  if (errno_value == ENOENT) return NotFoundError(what + ": no such file");
  if (errno_value == EACCES) return PermissionDeniedError(what + ": permission denied");
  return ErrnoError(what, errno_value);
}

}  // namespace

bool IsValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string KeyCheckValue(const PseudonymHasher& hasher) {
  Pseudonym p = hasher.Pseudonymize(ClearValue(kKeyIdMessage));
  return std::string(p.hex().substr(0, kKeyCheckValueLength));
}

Result<std::string> ReadKeyFile(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileError(path, errno);
  std::string bytes;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      OPENSSL_cleanse(buf, sizeof(buf));
      return FileError(path, e);
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    if (bytes.size() > (1u << 20)) {
      ::close(fd);
      return InvalidArgumentError("key file " + path.string() + " is larger than 1 MiB");
    }
  }
  ::close(fd);
  OPENSSL_cleanse(buf, sizeof(buf));
  if (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
  if (bytes.empty()) return InvalidArgumentError("key file " + path.string() + " is empty");
  return bytes;
}

Result<KeyRing> KeyRing::FromKeyBytes(std::string_view key_bytes) {
  FURROW_ASSIGN_OR_RETURN(PseudonymHasher hasher, PseudonymHasher::Create(key_bytes));
  KeyRing ring;
  std::string id = KeyCheckValue(hasher);
  ring.keys_.push_back(Entry{std::move(id), std::move(hasher)});
  return ring;
}

Result<KeyRing> KeyRing::FromKeyFile(const std::filesystem::path& path) {
  FURROW_ASSIGN_OR_RETURN(std::string bytes, ReadKeyFile(path));
  Result<KeyRing> ring = FromKeyBytes(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return ring;
}

Result<KeyRing> KeyRing::FromRingFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return FileError(path, errno);
  std::stringstream text;
  text << in.rdbuf();
  const std::string where = "key ring " + path.string();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(where + ": not valid YAML at line " +
                                std::to_string(e.mark.line + 1));
  }
  try {
    return ParseRing(root, path, where);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(where + ": malformed at line " + std::to_string(e.mark.line + 1));
  }
}

Result<KeyRing> KeyRing::ParseRing(const YAML::Node& root, const std::filesystem::path& path,
                                   const std::string& where) {
  if (!root.IsMap()) return InvalidArgumentError(where + ": expected a map with active and keys");
  for (const auto& kv : root) {
    std::string k = kv.first.as<std::string>("");
    // The unknown name is not echoed: a key file passed as a ring by mistake must not
    // end up in an error message.
    if (k != "active" && k != "keys") {
      return InvalidArgumentError(where + ": unknown top-level entry (expected only active and keys)");
    }
  }
  if (!root["active"] || !root["active"].IsScalar()) {
    return InvalidArgumentError(where + ": 'active' must name a key id");
  }
  std::string active = root["active"].as<std::string>();
  YAML::Node keys = root["keys"];
  if (!keys || !keys.IsSequence() || keys.size() == 0) {
    return InvalidArgumentError(where + ": 'keys' must be a non-empty list");
  }
  KeyRing ring;
  bool found_active = false;
  for (const auto& key : keys) {
    if (!key.IsMap() || !key["id"] || !key["file"] || key.size() != 2) {
      return InvalidArgumentError(where + ": each key needs exactly 'id' and 'file'");
    }
    std::string id = key["id"].as<std::string>();
    if (!IsValidKeyId(id)) {
      return InvalidArgumentError(where + ": key id '" + id + "' is not 1-64 of [A-Za-z0-9._-]");
    }
    if (ring.Find(id) != nullptr) return InvalidArgumentError(where + ": duplicate key id " + id);
    std::filesystem::path file = key["file"].as<std::string>();
    if (file.is_relative()) file = path.parent_path() / file;
    FURROW_ASSIGN_OR_RETURN(std::string bytes, ReadKeyFile(file));
    Result<PseudonymHasher> hasher = PseudonymHasher::Create(bytes);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (!hasher.ok()) return hasher.status().WithContext(where);
    if (id == active) {
      ring.active_ = ring.keys_.size();
      found_active = true;
    }
    ring.keys_.push_back(Entry{std::move(id), std::move(hasher).value()});
  }
  if (!found_active) return InvalidArgumentError(where + ": active key '" + active + "' is not in keys");
  return ring;
}

const PseudonymHasher* KeyRing::Find(std::string_view id) const {
  for (const auto& e : keys_) {
    if (e.id == id) return &e.hasher;
  }
  return nullptr;
}

std::vector<std::string> KeyRing::ids() const {
  std::vector<std::string> out;
  for (const auto& e : keys_) out.push_back(e.id);
  return out;
}

std::filesystem::path PipelineKeyPath(const std::filesystem::path& data_dir) {
  return data_dir / "keys" / "pseudonymize.key";
}

Result<KeyRing> LoadOrCreatePipelineKey(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = PipelineKeyPath(data_dir);
  const std::filesystem::path dir = path.parent_path();
  if (::access(path.c_str(), F_OK) == 0) return KeyRing::FromKeyFile(path);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);

  uint8_t raw[kGeneratedKeyBytes];
  if (RAND_bytes(raw, sizeof(raw)) != 1) return InternalError("RAND_bytes failed");
  char hex[2 * kGeneratedKeyBytes + 1];
  HexEncode(raw, sizeof(raw), hex);
  hex[2 * kGeneratedKeyBytes] = '\n';
  OPENSSL_cleanse(raw, sizeof(raw));

  std::filesystem::path tmp = dir / (".pseudonymize.key.tmp." + std::to_string(::getpid()));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create " + tmp.string(), errno);
  bool ok = ::write(fd, hex, sizeof(hex)) == static_cast<ssize_t>(sizeof(hex)) && ::fsync(fd) == 0;
  int write_errno = errno;
  ::close(fd);
  OPENSSL_cleanse(hex, sizeof(hex));
  if (!ok) {
    ::unlink(tmp.c_str());
    return ErrnoError("cannot write " + tmp.string(), write_errno);
  }
  // link() fails with EEXIST if another process created the key first; theirs wins.
  int rc = ::link(tmp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(tmp.c_str());
  if (rc != 0 && link_errno != EEXIST) return ErrnoError("cannot create " + path.string(), link_errno);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return KeyRing::FromKeyFile(path);
}

Result<KeyRing> LoadKeyRing(const KeySource& source, const EnvLookup& getenv) {
  if (!source.key_file.empty()) return KeyRing::FromKeyFile(source.key_file);
  if (!source.key_ring_file.empty()) return KeyRing::FromRingFile(source.key_ring_file);
  if (auto f = getenv(kKeyFileEnv); f && !f->empty()) return KeyRing::FromKeyFile(*f);
  if (auto f = getenv(kKeyRingEnv); f && !f->empty()) return KeyRing::FromRingFile(*f);
  if (!source.data_dir.empty()) {
    std::filesystem::path path = PipelineKeyPath(source.data_dir);
    if (::access(path.c_str(), F_OK) != 0) {
      return NotFoundError("no pipeline key at " + path.string() +
                           " (the pipeline creates it on its first start)");
    }
    return KeyRing::FromKeyFile(path);
  }
  return FailedPreconditionError(
      std::string("no pseudonymization key: give --key-file FILE or --key-ring FILE, set ") +
      kKeyFileEnv + " or " + kKeyRingEnv + ", or --data-dir DIR of a pipeline");
}

}  // namespace furrow::pseudonymize
