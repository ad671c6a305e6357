#include "warehouse/open_warehouse.h"

#include "warehouse/clickhouse_warehouse.h"
#include "warehouse/postgres_warehouse.h"
#include "warehouse/sqlite_warehouse.h"

namespace furrow::warehouse {

Result<std::unique_ptr<Warehouse>> OpenWarehouse(const std::string& url, const std::string& data_dir,
                                                 const Clock& clock) {
  if (url.empty()) return OpenSqliteWarehouse(data_dir + "/warehouse.sqlite", clock);
  const std::string kSqlite = "sqlite://";
  if (url.rfind(kSqlite, 0) == 0) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) return InvalidArgumentError("sqlite:// URL without a path");
    return OpenSqliteWarehouse(path, clock);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return OpenPostgresWarehouse(url, clock);
  }
  if (url.rfind("clickhouse://", 0) == 0) return OpenClickHouseWarehouse(url, clock);
  return InvalidArgumentError("unsupported warehouse URL (expected sqlite://, postgresql:// or clickhouse://): " +
                              url.substr(0, url.find("://")) + "://...");
}

}  // namespace furrow::warehouse
