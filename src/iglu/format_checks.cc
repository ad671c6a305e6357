// The `format` checks declared in schema.h.
#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "iglu/schema.h"

namespace furrow::iglu {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Reads exactly `n` digits at `pos` into `out`.
bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  *out = value;
  return true;
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && IsLeapYear(year)) return 29;
  return kDays[month - 1];
}

// RFC 3339 full-date: YYYY-MM-DD.
bool CheckFullDate(std::string_view s) {
  int year = 0, month = 0, day = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!ReadDigits(s, 0, 4, &year) || !ReadDigits(s, 5, 2, &month) || !ReadDigits(s, 8, 2, &day)) {
    return false;
  }
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

// RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] ("Z" / +HH:MM / -HH:MM);
// "t" and "z" are accepted as the RFC allows.
bool CheckDateTime(std::string_view s) {
  if (s.size() < 20 || !CheckFullDate(s.substr(0, 10))) return false;
  if (s[10] != 'T' && s[10] != 't') return false;
  int hour = 0, minute = 0, second = 0;
  if (!ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  int offset_hour = 0, offset_minute = 0;
  if (pos + 6 != s.size() || !ReadDigits(s, pos + 1, 2, &offset_hour) || s[pos + 3] != ':' ||
      !ReadDigits(s, pos + 4, 2, &offset_minute)) {
    return false;
  }
  return offset_hour <= 23 && offset_minute <= 59;
}

bool CheckUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!IsHex(s[i])) {
      return false;
    }
  }
  return true;
}

bool CheckIp(int family, std::string_view s) {
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return false;
  std::string copy(s);  // inet_pton needs a terminated string without inner NULs
  if (copy.find('\0') != std::string::npos) return false;
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(family, copy.c_str(), buffer) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and hyphens, each
// 1-63 bytes not starting or ending with a hyphen; at most 253 bytes in all; one
// trailing dot allowed.
bool CheckHostname(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-') return false;
    }
    start = dot + 1;
  }
  return true;
}

bool IsAtext(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

// RFC 5322 addr-spec without comments or folding white space: a dot-atom or quoted
// local part (at most 64 bytes), "@", and a host name or a bracketed IP literal.
bool CheckEmail(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.size() > 64) return false;
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"') return false;
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(local[i]);
      if (c == '\\') {
        ++i;
        if (i + 1 >= local.size()) return false;
        continue;
      }
      if (c == '"' || c < 0x20 || c == 0x7f) return false;
    }
  } else {
    if (local.front() == '.' || local.back() == '.') return false;
    for (size_t i = 0; i < local.size(); ++i) {
      if (local[i] == '.') {
        if (local[i + 1] == '.') return false;
      } else if (!IsAtext(local[i])) {
        return false;
      }
    }
  }
  if (domain.front() == '[') {
    if (domain.back() != ']') return false;
    std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.substr(0, 5) == "IPv6:") return CheckIp(AF_INET6, literal.substr(5));
    return CheckIp(AF_INET, literal);
  }
  return CheckHostname(domain);
}

// An absolute URI: scheme ":" followed by URI characters. Percent signs must start
// a %XX escape; space, control characters and <>"{}|\^` are rejected; non-ASCII
// bytes are accepted (java.net.URI's "other" characters, which Snowplow's JVM
// validators accept); '#' at most once; '[' and ']' only in the authority.
bool CheckUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(s[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  static constexpr std::string_view kForbidden = "<>\"{}|\\^`";
  bool seen_fragment = false;
  size_t authority_end = colon + 1;
  if (s.substr(colon + 1, 2) == "//") {
    authority_end = s.find_first_of("/?#", colon + 3);
    if (authority_end == std::string_view::npos) authority_end = s.size();
  }
  for (size_t i = colon + 1; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c == 0x7f) return false;
    if (kForbidden.find(static_cast<char>(c)) != std::string_view::npos) return false;
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) return false;
      i += 2;
    } else if (c == '#') {
      if (seen_fragment) return false;
      seen_fragment = true;
    } else if ((c == '[' || c == ']') && i >= authority_end) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsKnownFormat(std::string_view format) {
  return format == "date-time" || format == "date" || format == "uuid" || format == "uri" ||
         format == "ipv4" || format == "ipv6" || format == "email" || format == "hostname";
}

bool CheckFormat(std::string_view format, std::string_view value) {
  if (format == "date-time") return CheckDateTime(value);
  if (format == "date") return CheckFullDate(value);
  if (format == "uuid") return CheckUuid(value);
  if (format == "uri") return CheckUri(value);
  if (format == "ipv4") return CheckIp(AF_INET, value);
  if (format == "ipv6") return CheckIp(AF_INET6, value);
  if (format == "email") return CheckEmail(value);
  if (format == "hostname") return CheckHostname(value);
  return true;
}

}  // namespace furrow::iglu
