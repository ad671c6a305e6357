#include "tracker/query_string.h"

namespace furrow::tracker {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Calls fn(raw_name, raw_value) for each non-empty pair.
template <typename Fn>
void ForEachPair(std::string_view query, Fn&& fn) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        if (!fn(pair, std::string_view())) return;
      } else if (!fn(pair.substr(0, eq), pair.substr(eq + 1))) {
        return;
      }
    }
    pos = amp + 1;
  }
}

}  // namespace

std::string PercentDecode(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] != '%' && text[i] != '+') ++i;
  if (i == text.size()) return std::string(text);  // nothing to decode: most names and ids
  // Decoding only shrinks: write through a pointer into a string of the input's size.
  std::string out(text);
  char* d = out.data() + i;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    int high, low;
    if (c == '+') {
      *d++ = ' ';
    } else if (c == '%' && i + 2 < text.size() && (high = HexValue(text[i + 1])) >= 0 &&
               (low = HexValue(text[i + 2])) >= 0) {
      *d++ = static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      *d++ = c;
    }
  }
  out.resize(static_cast<size_t>(d - out.data()));
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

QueryParams ParseQueryString(std::string_view query) {
  QueryParams params;
  ForEachPair(query, [&](std::string_view name, std::string_view value) {
    params.emplace_back(PercentDecode(name), PercentDecode(value));
    return true;
  });
  return params;
}

std::optional<std::string> FindQueryParam(std::string_view query, std::string_view name) {
  std::optional<std::string> found;
  ForEachPair(query, [&](std::string_view raw_name, std::string_view value) {
    if (raw_name == name || PercentDecode(raw_name) == name) {
      found = PercentDecode(value);
      return false;
    }
    return true;
  });
  return found;
}

}  // namespace furrow::tracker
