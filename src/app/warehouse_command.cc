// `furrow warehouse load`: loads the lake's new files (pings from the receiver's
// extract, events from the sink) into a warehouse picked by --warehouse URL; with
// --target snowflake --print-sql prints the SQL a Snowflake user runs instead.
// See warehouse/loader.h and docs/warehouse.md.
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "app/lake.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "warehouse/loader.h"
#include "warehouse/open_warehouse.h"

namespace furrow::app {
namespace {

struct WarehouseLoadOptions {
  std::string data_dir = "./var";
  std::string source = "all";
  std::string warehouse;
  std::string target;
  bool print_sql = false;
  std::string lake;
  LakeOptions lake_options;
};

int RunLoad(WarehouseLoadOptions& o) {
  if (!o.target.empty()) {
    if (o.target != "snowflake" || !o.print_sql) {
      std::fprintf(stderr, "furrow warehouse load: --target snowflake needs --print-sql (furrow does not connect to "
                           "Snowflake; run the printed SQL there)\n");
      return kExitUsage;
    }
    std::string lake_url = o.lake.empty() ? o.data_dir + "/lake" : o.lake;
    std::fputs(warehouse::SnowflakeSql(lake_url).c_str(), stdout);
    return kExitOk;
  }
  MetricsRegistry metrics;
  o.lake_options.metrics = &metrics;
  auto lake = OpenLake(o.lake, o.data_dir, o.lake_options);
  if (!lake.ok()) {
    std::fprintf(stderr, "furrow warehouse load: cannot open the lake: %s\n", lake.status().ToString().c_str());
    return kExitFailure;
  }
  auto warehouse = warehouse::OpenWarehouse(o.warehouse, o.data_dir, SystemClock::Instance());
  if (!warehouse.ok()) {
    std::fprintf(stderr, "furrow warehouse load: cannot open the warehouse: %s\n",
                 warehouse.status().ToString().c_str());
    return kExitFailure;
  }
  warehouse::LoadOptions options;
  options.pings = o.source == "pings" || o.source == "all";
  options.events = o.source == "events" || o.source == "all";
  log::Info("warehouse load starting", {{"lake", (*lake)->Describe()}, {"warehouse", (*warehouse)->Describe()},
                                        {"source", o.source}});
  auto stats = warehouse::LoadFromLake(**lake, **warehouse, options);
  if (!stats.ok()) {
    std::fprintf(stderr, "furrow warehouse load: %s\n", stats.status().ToString().c_str());
    return kExitFailure;
  }
  std::printf("loaded %lld files (%lld already loaded): %lld pings (%lld duplicates), %lld metric rows, %lld events, "
              "%lld unreadable lines\n",
              static_cast<long long>(stats->files), static_cast<long long>(stats->skipped_files),
              static_cast<long long>(stats->pings), static_cast<long long>(stats->duplicate_pings),
              static_cast<long long>(stats->metric_rows), static_cast<long long>(stats->events),
              static_cast<long long>(stats->bad_lines));
  return kExitOk;
}

}  // namespace

void RegisterWarehouseCommands(CLI::App& app, Commands& commands) {
  static WarehouseLoadOptions o;
  CLI::App* group = app.add_subcommand("warehouse", "Load the lake into a warehouse");
  group->require_subcommand(1);
  CLI::App* load = group->add_subcommand("load", "Load new lake files (pings, events) into the warehouse");
  AddDataDirOption(load, &o.data_dir);
  load->add_option("--source", o.source, "What to load: pings, events or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"pings", "events", "all"}));
  load->add_option("--warehouse", o.warehouse,
                  "sqlite://PATH, postgresql://... or clickhouse://HOST:PORT/DB (default DATA_DIR/warehouse.sqlite)");
  load->add_option("--target", o.target, "snowflake: print the SQL for Snowflake (with --print-sql)")
      ->check(CLI::IsMember({"snowflake"}));
  load->add_flag("--print-sql", o.print_sql, "Print the SQL instead of loading");
  AddLakeOptions(load, &o.lake, &o.lake_options);
  commands.SetRunner(load, [] { return RunLoad(o); });
}

}  // namespace furrow::app
