// Every command's registration function; main() calls them in this order, which is
// also the order of `furrow --help`.
#pragma once

#include "app/command.h"

namespace furrow::app {

void RegisterVersionCommand(CLI::App& app, Commands& commands);
// `ping generate|send|export|queries|track|agent|serve` (ping_command.cc).
void RegisterPingCommands(CLI::App& app, Commands& commands);
// `collector` (collector_command.cc).
void RegisterCollectorCommand(CLI::App& app, Commands& commands);
// `enrich` (enrich_command.cc).
void RegisterEnrichCommand(CLI::App& app, Commands& commands);
// `pseudonymize` and `pseudonym` (pseudonymize_command.cc).
void RegisterPseudonymizeCommands(CLI::App& app, Commands& commands);
// `pipeline`: collector + enrich + sink in one process (pipeline_command.cc).
void RegisterPipelineCommand(CLI::App& app, Commands& commands);
// `sink` (sink_command.cc).
void RegisterSinkCommand(CLI::App& app, Commands& commands);
// `stream list` and `stream dump` (stream_command.cc).
void RegisterStreamCommands(CLI::App& app, Commands& commands);
// `receiver` and `receiver extract` (receiver_command.cc).
void RegisterReceiverCommands(CLI::App& app, Commands& commands);
// `ping pull`, added to the `ping` group (ping_pull_command.cc); after RegisterPingCommands.
void RegisterPingPullCommand(CLI::App& app, Commands& commands);
// `warehouse load` (warehouse_command.cc).
void RegisterWarehouseCommands(CLI::App& app, Commands& commands);

}  // namespace furrow::app
