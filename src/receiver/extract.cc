#include "receiver/extract.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include "core/logging.h"
#include "sink/compressor.h"

namespace furrow::receiver {
namespace {

Result<std::chrono::sys_days> ParseDate(const std::string& date) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  char tail = 0;
  if (date.size() != 10 || std::sscanf(date.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return InvalidArgumentError("date must be YYYY-MM-DD, got \"" + date + "\"");
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return InvalidArgumentError("no such date: " + date);
  return std::chrono::sys_days(ymd);
}

std::string FormatDate(std::chrono::sys_days days) {
  std::chrono::year_month_day ymd(days);
  char buf[48];  // room for any int fields, so the format can never truncate
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string Padded(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(id));
  return buf;
}

// The last id of an object name "<first>-<last>.jsonl.gz", or -1.
int64_t LastIdOf(const std::string& key) {
  size_t slash = key.rfind('/');
  std::string name = key.substr(slash == std::string::npos ? 0 : slash + 1);
  long long first = 0;
  long long last = 0;
  char tail[16] = {0};
  if (std::sscanf(name.c_str(), "%20lld-%20lld.%15s", &first, &last, tail) != 3) return -1;
  if (std::string(tail) != "jsonl.gz") return -1;
  return last;
}

}  // namespace

std::string UtcDate(int64_t epoch_ms) {
  auto days = std::chrono::floor<std::chrono::days>(std::chrono::sys_time<std::chrono::milliseconds>(
      std::chrono::milliseconds(epoch_ms)));
  return FormatDate(days);
}

Result<std::string> NextDate(const std::string& date) {
  FURROW_ASSIGN_OR_RETURN(std::chrono::sys_days days, ParseDate(date));
  return FormatDate(days + std::chrono::days(1));
}

Result<ExtractStats> ExtractDay(PingStore& store, storage::ObjectStore& lake, const std::string& date,
                                const ExtractOptions& options) {
  FURROW_ASSIGN_OR_RETURN(std::string next, NextDate(date));
  const int64_t batch = options.rows_per_file > 0 ? options.rows_per_file : 50000;
  ExtractStats stats;
  for (const char* table : kExtractTables) {
    const std::string prefix = std::string("pings/") + table + "/date=" + date + "/";
    int64_t watermark = 0;
    FURROW_RETURN_IF_ERROR(lake.ForEach(prefix, [&](const storage::ObjectInfo& info) {
      int64_t last = LastIdOf(info.key);
      if (last > watermark) watermark = last;
      return Status::Ok();
    }));
    while (true) {
      auto compressor = sink::Compressor::Create(sink::Compression::kGzip);
      int64_t first = -1;
      int64_t last = -1;
      int64_t rows = 0;
      Status scan = store.ScanRows(table, date, next, watermark, batch, [&](int64_t id, const std::string& line) {
        if (first < 0) first = id;
        last = id;
        ++rows;
        FURROW_RETURN_IF_ERROR(compressor->Append(line));
        return compressor->Append("\n");
      });
      FURROW_RETURN_IF_ERROR(scan);
      if (rows == 0) break;
      FURROW_RETURN_IF_ERROR(compressor->Finish());
      std::string key = prefix + Padded(first) + "-" + Padded(last) + ".jsonl.gz";
      FURROW_RETURN_IF_ERROR(lake.Put(key, compressor->TakeOutput(),
                                      {{"rows", std::to_string(rows)}, {"content-type", "application/x-ndjson"}}));
      stats.files += 1;
      stats.rows += rows;
      watermark = last;
      log::Info("extract progress", {{"table", table}, {"date", date}, {"object", key}, {"rows", rows},
                                     {"files_done", stats.files}, {"rows_done", stats.rows}});
      if (rows < batch) break;
    }
  }
  return stats;
}

}  // namespace furrow::receiver
