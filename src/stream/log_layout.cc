#include "stream/log_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <filesystem>

namespace furrow::stream {
namespace {

constexpr size_t kSegmentDigits = 20;
constexpr char kSegmentSuffix[] = ".log";
constexpr char kPositionSuffix[] = ".pos";
constexpr char kPositionMagic[] = "furrow-reader-position 1\n";
constexpr char kNextOffsetKey[] = "next_offset ";

std::string ReaderPath(const std::string& stream_dir, const std::string& reader) {
  return stream_dir + "/" + kReadersDir + "/" + reader + kPositionSuffix;
}

}  // namespace

std::string SegmentFileName(uint64_t base_offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu%s", static_cast<unsigned long long>(base_offset),
                kSegmentSuffix);
  return buf;
}

std::optional<uint64_t> ParseSegmentFileName(std::string_view name) {
  std::string_view suffix(kSegmentSuffix);
  if (name.size() != kSegmentDigits + suffix.size()) return std::nullopt;
  if (name.substr(kSegmentDigits) != suffix) return std::nullopt;
  uint64_t value = 0;
  std::string_view digits = name.substr(0, kSegmentDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

Result<std::vector<uint64_t>> ListSegments(const std::string& dir) {
  std::vector<uint64_t> bases;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto base = ParseSegmentFileName(it->path().filename().string());
    if (base) bases.push_back(*base);
  }
  if (ec) return IoError("list " + dir + ": " + ec.message());
  std::sort(bases.begin(), bases.end());
  return bases;
}

Result<std::vector<std::string>> ListReaders(const std::string& stream_dir) {
  std::vector<std::string> readers;
  std::string dir = stream_dir + "/" + kReadersDir;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return readers;
  std::string_view suffix(kPositionSuffix);
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(),
                                                    suffix) == 0) {
      readers.push_back(name.substr(0, name.size() - suffix.size()));
    }
  }
  if (ec) return IoError("list " + dir + ": " + ec.message());
  std::sort(readers.begin(), readers.end());
  return readers;
}

Result<uint64_t> ReadReaderPosition(const std::string& stream_dir, const std::string& reader) {
  std::string path = ReaderPath(stream_dir, reader);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("no position file " + path);
    return ErrnoError("open " + path, errno);
  }
  char buf[256];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t r = ::read(fd, buf + got, sizeof buf - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError("read " + path, err);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  std::string_view text(buf, got);
  std::string_view magic(kPositionMagic);
  std::string_view key(kNextOffsetKey);
  if (text.substr(0, magic.size()) != magic) {
    return DataLossError("malformed reader position file " + path);
  }
  text.remove_prefix(magic.size());
  if (text.substr(0, key.size()) != key || text.empty() || text.back() != '\n') {
    return DataLossError("malformed reader position file " + path);
  }
  text.remove_prefix(key.size());
  text.remove_suffix(1);
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return DataLossError("malformed reader position file " + path);
  }
  return value;
}

Status WriteReaderPosition(const std::string& stream_dir, const std::string& reader,
                           uint64_t next_offset) {
  std::string contents = kPositionMagic;
  contents += kNextOffsetKey;
  contents += std::to_string(next_offset);
  contents += '\n';
  return WriteFileAtomically(ReaderPath(stream_dir, reader), contents);
}

}  // namespace furrow::stream
