#include "stream/file_log_inspect.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <limits>

#include "stream/file_log.h"
#include "stream/log_layout.h"
#include "stream/record_format.h"

namespace furrow::stream {
namespace {

// A read-only fd that closes itself.
class ReadOnlyFile {
 public:
  ReadOnlyFile() = default;
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  ~ReadOnlyFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return ErrnoError("open " + path, errno);
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError("stat " + path, errno);
    size_ = static_cast<uint64_t>(st.st_size);
    return Status::Ok();
  }
  int fd() const { return fd_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

Result<std::string> StreamDir(const std::string& root, const std::string& name) {
  if (!IsValidStreamName(name)) return InvalidArgumentError("invalid stream name '" + name + "'");
  std::string dir = root + "/" + name;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return NotFoundError("no stream " + name + " in " + root);
  return dir;
}

// No limit on record size when inspecting: the writer's limit is not known here,
// and the CRC still guards against garbage lengths reading as records.
constexpr size_t kAnyRecordSize = std::numeric_limits<uint32_t>::max();

}  // namespace

Result<std::vector<std::string>> ListStreamNames(const std::string& root) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return names;
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code dir_ec;
    if (IsValidStreamName(name) && it->is_directory(dir_ec)) names.push_back(name);
  }
  if (ec) return IoError("list " + root + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<StreamInfo> InspectStream(const std::string& root, const std::string& name) {
  FURROW_ASSIGN_OR_RETURN(std::string dir, StreamDir(root, name));
  StreamInfo info;
  info.name = name;
  FURROW_ASSIGN_OR_RETURN(std::vector<uint64_t> bases, ListSegments(dir));
  for (size_t i = 0; i < bases.size(); ++i) {
    ReadOnlyFile file;
    FURROW_RETURN_IF_ERROR(file.Open(dir + "/" + SegmentFileName(bases[i])));
    info.bytes_on_disk += file.size();
    if (i + 1 == bases.size()) {
      SegmentScanner scanner(file.fd(), kSegmentHeaderBytes, file.size(), bases[i], kAnyRecordSize);
      RecordHeader header;
      std::string_view payload;
      while (scanner.Next(&header, &payload)) {
      }
      if (scanner.stop() == ScanStop::kIoError) return scanner.status();
      info.end_offset = scanner.next_offset();
    }
  }
  if (!bases.empty()) info.first_offset = bases.front();
  info.records = info.end_offset - info.first_offset;
  FURROW_ASSIGN_OR_RETURN(std::vector<std::string> readers, ListReaders(dir));
  for (const std::string& reader : readers) {
    FURROW_ASSIGN_OR_RETURN(uint64_t position, ReadReaderPosition(dir, reader));
    info.readers.push_back({reader, position});
  }
  return info;
}

Status ReadStream(const std::string& root, const std::string& name, uint64_t from_offset,
                  const std::function<bool(const Record&)>& on_record,
                  const std::function<void(const Status&)>& on_damage) {
  FURROW_ASSIGN_OR_RETURN(std::string dir, StreamDir(root, name));
  FURROW_ASSIGN_OR_RETURN(std::vector<uint64_t> bases, ListSegments(dir));
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool last = i + 1 == bases.size();
    if (!last && bases[i + 1] <= from_offset) continue;
    std::string path = dir + "/" + SegmentFileName(bases[i]);
    ReadOnlyFile file;
    Status opened = file.Open(path);
    if (opened.code() == StatusCode::kIoError && !std::filesystem::exists(path)) {
      continue;  // deleted by retention while we listed
    }
    FURROW_RETURN_IF_ERROR(opened);
    Status magic = CheckSegmentMagic(file.fd());
    if (magic.code() == StatusCode::kIoError) return magic;
    if (!magic.ok()) {
      if (last) return Status::Ok();  // a segment being created
      Status damage = DataLossError(path + ": " + magic.message());
      if (!on_damage) return damage;
      on_damage(damage);
      continue;
    }
    SegmentScanner scanner(file.fd(), kSegmentHeaderBytes, file.size(), bases[i], kAnyRecordSize);
    RecordHeader header;
    std::string_view payload;
    Record record;
    while (scanner.Next(&header, &payload)) {
      if (header.offset < from_offset) continue;
      record.partition = 0;
      record.offset = header.offset;
      record.timestamp_ms = header.timestamp_ms;
      record.payload.assign(payload);
      if (!on_record(record)) return Status::Ok();
    }
    if (scanner.stop() == ScanStop::kIoError) return scanner.status();
    if (!last && (scanner.stop() != ScanStop::kEnd || scanner.next_offset() != bases[i + 1])) {
      Status damage = DataLossError(path + ": " + ScanStopName(scanner.stop()) + " at byte " +
                                    std::to_string(scanner.position()) + "; offsets " +
                                    std::to_string(scanner.next_offset()) + " to " +
                                    std::to_string(bases[i + 1] - 1) + " unreadable");
      if (!on_damage) return damage;
      on_damage(damage);
    }
  }
  return Status::Ok();
}

}  // namespace furrow::stream
