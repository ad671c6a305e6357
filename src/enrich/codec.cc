#include "enrich/codec.h"

#include <openssl/evp.h>

namespace furrow::enrich {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::optional<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  std::string normalized;
  normalized.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-') {
      normalized.push_back('+');
    } else if (c == '_') {
      normalized.push_back('/');
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/' || c == '=') {
      normalized.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  // '=' may only appear as trailing padding.
  size_t first_pad = normalized.find('=');
  size_t padding = 0;
  if (first_pad != std::string::npos) {
    padding = normalized.size() - first_pad;
    if (padding > 2 || normalized.find_first_not_of('=', first_pad) != std::string::npos) {
      return std::nullopt;
    }
    normalized.resize(first_pad);
    padding = 0;
  }
  if (normalized.size() % 4 == 1) return std::nullopt;
  while (normalized.size() % 4 != 0) {
    normalized.push_back('=');
    ++padding;
  }
  if (normalized.empty()) return std::string();
  std::string out(normalized.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(normalized.data()),
                          static_cast<int>(normalized.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace furrow::enrich
