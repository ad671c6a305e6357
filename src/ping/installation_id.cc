#include "ping/installation_id.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace furrow::ping {

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

Result<std::string> NewUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return InternalError("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return std::string(out);
}

Result<std::string> LoadOrCreateInstallationId(const std::string& data_dir) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(data_dir) / "ping";
  fs::path file = dir / "uuid";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  auto read = [&]() -> Result<std::string> {
    std::ifstream in(file);
    std::string id;
    std::getline(in, id);
    if (!IsUuid(id)) return DataLossError(file.string() + " does not hold a uuid");
    return id;
  };
  if (fs::exists(file, ec)) return read();
  FURROW_ASSIGN_OR_RETURN(std::string id, NewUuid());
  fs::path tmp = dir / ("uuid.tmp." + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    out.flush();
    if (!out) return IoError("cannot write " + tmp.string());
  }
  int rc = ::link(tmp.c_str(), file.c_str());
  int err = errno;
  fs::remove(tmp, ec);
  if (rc != 0 && err != EEXIST) return ErrnoError("cannot create " + file.string(), err);
  return read();
}

}  // namespace furrow::ping
