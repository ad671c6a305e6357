// Constructors of the SqlDatabase implementations (used by OpenSqlDatabase and tests).
#pragma once

#include <memory>
#include <string>

#include "ping/sql_database.h"

namespace furrow::ping {

std::unique_ptr<SqlDatabase> NewSqliteDatabase(std::string path, const Clock& clock);
std::unique_ptr<SqlDatabase> NewPostgresDatabase(std::string conninfo, const Clock& clock);

}  // namespace furrow::ping
