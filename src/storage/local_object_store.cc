#include "storage/local_object_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "core/logging.h"

namespace furrow::storage {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kTempPrefix = ".tmp.";
constexpr std::string_view kMetaPrefix = ".meta.";
constexpr size_t kCopyBufferBytes = 1 << 20;

Status ErrnoStatus(const std::string& what, int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFoundError(what + ": " + std::strerror(err));
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDeniedError(what + ": " + std::strerror(err));
    default:
      return ErrnoError(what, err);
  }
}

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close() returns.
  int Release() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open directory " + dir.string(), errno);
  FdCloser closer(fd);
  if (::fsync(fd) != 0) return ErrnoStatus("fsync directory " + dir.string(), errno);
  return Status::Ok();
}

// Creates root/relative one component at a time, fsyncing each parent that gained
// a directory so that the new path survives a crash.
Status EnsureDirectories(const fs::path& root, const fs::path& relative) {
  fs::path current = root;
  for (const fs::path& part : relative) {
    fs::path next = current / part;
    if (::mkdir(next.c_str(), 0755) == 0) {
      FURROW_RETURN_IF_ERROR(SyncDirectory(current));
    } else if (errno == EEXIST) {
      struct stat st;
      if (::stat(next.c_str(), &st) != 0) return ErrnoStatus("stat " + next.string(), errno);
      if (!S_ISDIR(st.st_mode)) {
        return FailedPreconditionError("cannot create directory " + next.string() +
                                       ": an object of that name exists");
      }
    } else {
      return ErrnoStatus("mkdir " + next.string(), errno);
    }
    current = std::move(next);
  }
  return Status::Ok();
}

std::string RandomHex() {
  thread_local std::mt19937_64 rng([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device() ^
           static_cast<uint64_t>(::getpid());
  }());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::string TemporaryName() {
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "." + RandomHex();
}

Status WriteAll(int fd, const char* data, size_t size, const fs::path& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + path.string(), errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string EncodeMetadata(const ObjectMetadata& metadata) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [name, value] : metadata) {
    writer.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<ObjectMetadata> DecodeMetadata(const std::string& text, const fs::path& path) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return DataLossError("corrupt metadata file " + path.string());
  }
  ObjectMetadata out;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    if (!it->value.IsString()) return DataLossError("corrupt metadata file " + path.string());
    out.emplace(std::string(it->name.GetString(), it->name.GetStringLength()),
                std::string(it->value.GetString(), it->value.GetStringLength()));
  }
  return out;
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path.string(), errno);
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat " + path.string(), errno);
  if (!S_ISREG(st.st_mode)) return NotFoundError(path.string() + " is not an object");
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t filled = 0;
  while (true) {
    if (filled == out.size()) out.resize(out.size() + 4096);
    ssize_t n = ::read(fd, out.data() + filled, out.size() - filled);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read " + path.string(), errno);
    }
    if (n == 0) break;
    filled += static_cast<size_t>(n);
  }
  out.resize(filled);
  return out;
}

bool ProcessIsGone(long pid) {
  if (pid <= 0) return true;
  if (pid == static_cast<long>(::getpid())) return true;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// The PID in ".tmp.PID.RANDOM", or -1.
long TemporaryOwner(std::string_view name) {
  name.remove_prefix(kTempPrefix.size());
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) return -1;
  long pid = -1;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + dot, pid);
  if (ec != std::errc() || ptr != name.data() + dot) return -1;
  return pid;
}

}  // namespace

struct LocalObjectStore::Source {
  // Exactly one of the two is used: `fd >= 0` means copy from the file.
  std::string_view bytes;
  int fd = -1;
  fs::path file;
};

bool LocalObjectStore::IsTemporaryName(std::string_view name) {
  return name.substr(0, kTempPrefix.size()) == kTempPrefix;
}

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(const fs::path& root) {
  if (root.empty()) return InvalidArgumentError("empty lake directory");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return ErrnoStatus("create lake directory " + root.string(), ec.value());
  fs::path absolute = fs::absolute(root, ec);
  if (ec) return ErrnoStatus("resolve lake directory " + root.string(), ec.value());
  std::unique_ptr<LocalObjectStore> store(new LocalObjectStore(absolute.lexically_normal()));
  FURROW_RETURN_IF_ERROR(store->RemoveStaleTemporaries());
  return store;
}

Status LocalObjectStore::RemoveStaleTemporaries() {
  std::error_code ec;
  fs::recursive_directory_iterator it(root_, ec);
  if (ec) return ErrnoStatus("scan " + root_.string(), ec.value());
  int removed = 0;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoStatus("scan " + root_.string(), ec.value());
    std::string name = it->path().filename().string();
    if (!IsTemporaryName(name)) continue;
    if (!ProcessIsGone(TemporaryOwner(name))) continue;
    if (::unlink(it->path().c_str()) == 0) {
      ++removed;
    } else if (errno != ENOENT) {
      return ErrnoStatus("remove stale temporary " + it->path().string(), errno);
    }
  }
  if (ec) return ErrnoStatus("scan " + root_.string(), ec.value());
  if (removed > 0) {
    log::Info("removed stale temporary files from the lake",
              {{"root", root_.string()}, {"count", removed}});
  }
  return Status::Ok();
}

Status LocalObjectStore::Put(std::string_view key, std::string_view bytes,
                             const ObjectMetadata& metadata) {
  Source source;
  source.bytes = bytes;
  return PutFrom(key, source, metadata);
}

Status LocalObjectStore::PutFile(std::string_view key, const fs::path& file,
                                 const ObjectMetadata& metadata) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + file.string(), errno);
  FdCloser closer(fd);
  Source source;
  source.fd = fd;
  source.file = file;
  return PutFrom(key, source, metadata);
}

namespace {

// Writes `source` (or `bytes`) to a new temporary file in `dir`, fsyncs it, and
// renames it to `final_path`.
Status WriteAtomically(const fs::path& dir, const fs::path& final_path, std::string_view bytes,
                       int source_fd, const fs::path& source_path) {
  fs::path temp = dir / TemporaryName();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create " + temp.string(), errno);
  FdCloser closer(fd);
  Status s;
  if (source_fd < 0) {
    s = WriteAll(fd, bytes.data(), bytes.size(), temp);
  } else {
    std::vector<char> buffer(kCopyBufferBytes);
    while (s.ok()) {
      ssize_t n = ::read(source_fd, buffer.data(), buffer.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        s = ErrnoStatus("read " + source_path.string(), errno);
        break;
      }
      if (n == 0) break;
      s = WriteAll(fd, buffer.data(), static_cast<size_t>(n), temp);
    }
  }
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync " + temp.string(), errno);
  if (s.ok() && closer.Release() != 0) s = ErrnoStatus("close " + temp.string(), errno);
  if (s.ok() && ::rename(temp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    s = (err == EISDIR || err == ENOTEMPTY)
            ? FailedPreconditionError("cannot store object " + final_path.string() +
                                      ": a directory of that name exists")
            : ErrnoStatus("rename to " + final_path.string(), err);
  }
  if (!s.ok()) ::unlink(temp.c_str());
  return s;
}

}  // namespace

Status LocalObjectStore::PutFrom(std::string_view key, const Source& source,
                                 const ObjectMetadata& metadata) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  FURROW_RETURN_IF_ERROR(ValidateMetadata(metadata));
  fs::path relative(key);
  for (const fs::path& part : relative) {
    if (part.native().size() > kMaxLocalSegmentBytes) {
      return InvalidArgumentError("object key segment longer than " +
                                  std::to_string(kMaxLocalSegmentBytes) + " bytes");
    }
  }
  FURROW_RETURN_IF_ERROR(EnsureDirectories(root_, relative.parent_path()));
  fs::path dir = (root_ / relative).parent_path();
  fs::path final_path = root_ / relative;
  fs::path meta_path = dir / (std::string(kMetaPrefix) + relative.filename().string());

  if (!metadata.empty()) {
    std::string encoded = EncodeMetadata(metadata);
    FURROW_RETURN_IF_ERROR(WriteAtomically(dir, meta_path, encoded, -1, {}));
  }
  FURROW_RETURN_IF_ERROR(WriteAtomically(dir, final_path, source.bytes, source.fd, source.file));
  if (metadata.empty() && ::unlink(meta_path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove stale metadata " + meta_path.string(), errno);
  }
  return SyncDirectory(dir);
}

Result<std::string> LocalObjectStore::Get(std::string_view key) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  fs::path path = root_ / fs::path(key);
  Result<std::string> data = ReadWholeFile(path);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound) {
    return NotFoundError("no object " + std::string(key) + " in " + root_.string());
  }
  return data;
}

Result<ObjectInfo> LocalObjectStore::Head(std::string_view key) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  fs::path path = root_ / fs::path(key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return NotFoundError("no object " + std::string(key) + " in " + root_.string());
    }
    return ErrnoStatus("stat " + path.string(), errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return NotFoundError("no object " + std::string(key) + " in " + root_.string());
  }
  ObjectInfo info;
  info.key = std::string(key);
  info.size = static_cast<uint64_t>(st.st_size);
  fs::path meta_path = path.parent_path() / (std::string(kMetaPrefix) + path.filename().string());
  Result<std::string> meta = ReadWholeFile(meta_path);
  if (meta.ok()) {
    FURROW_ASSIGN_OR_RETURN(info.metadata, DecodeMetadata(*meta, meta_path));
  } else if (meta.status().code() != StatusCode::kNotFound) {
    return meta.status();
  }
  return info;
}

Status LocalObjectStore::ForEach(std::string_view prefix,
                                 const std::function<Status(const ObjectInfo&)>& visit) {
  FURROW_RETURN_IF_ERROR(ValidatePrefix(prefix));
  // Walk only below the deepest directory the prefix names completely.
  size_t slash = prefix.rfind('/');
  fs::path base = slash == std::string_view::npos ? root_ : root_ / fs::path(prefix.substr(0, slash));
  std::error_code ec;
  if (!fs::is_directory(base, ec)) return Status::Ok();

  std::vector<ObjectInfo> found;
  fs::recursive_directory_iterator it(base, ec);
  if (ec) return ErrnoStatus("list " + base.string(), ec.value());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return ErrnoStatus("list " + base.string(), ec.value());
    const fs::path& path = it->path();
    std::string name = path.filename().string();
    if (!name.empty() && name.front() == '.') {
      // Temporary files, metadata sidecars, and anything else hidden.
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted while listing
      return ErrnoStatus("stat " + path.string(), errno);
    }
    if (!S_ISREG(st.st_mode)) continue;
    std::string key = path.lexically_relative(root_).generic_string();
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    found.push_back(ObjectInfo{std::move(key), static_cast<uint64_t>(st.st_size), {}});
  }
  if (ec) return ErrnoStatus("list " + base.string(), ec.value());
  std::sort(found.begin(), found.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  for (const ObjectInfo& info : found) FURROW_RETURN_IF_ERROR(visit(info));
  return Status::Ok();
}

Status LocalObjectStore::Delete(std::string_view key) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  fs::path path = root_ / fs::path(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR && errno != EISDIR) {
    return ErrnoStatus("delete " + path.string(), errno);
  }
  fs::path meta_path = path.parent_path() / (std::string(kMetaPrefix) + path.filename().string());
  if (::unlink(meta_path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
    return ErrnoStatus("delete " + meta_path.string(), errno);
  }
  std::error_code ec;
  if (!fs::is_directory(path.parent_path(), ec)) return Status::Ok();
  return SyncDirectory(path.parent_path());
}

}  // namespace furrow::storage
