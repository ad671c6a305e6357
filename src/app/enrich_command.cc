// `furrow enrich`: the enrich stage alone, on the embedded file streams.
//
// Wires the embedded file streams (DATA_DIR/streams, app/stream_options.h) and the
// enrich runner (app/enrich_stage.h: Iglu resolver from --iglu-config, enrichments
// from --enrichments DIR, enrich::EnrichStage). Reads raw-good, writes enriched-good
// and enriched-bad. On SIGTERM/SIGINT it finishes the batch in hand, flushes its
// outputs, commits its input position and exits 0. Every option is documented in
// docs/configuration.md.
#include <cstdio>
#include <string>
#include <thread>

#include "app/admin_server.h"
#include "app/commands.h"
#include "app/enrich_stage.h"
#include "app/signals.h"
#include "app/stream_options.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"

namespace furrow::app {
namespace {

struct EnrichCommandOptions {
  std::string data_dir = "./var";
  int port = 8081;  // /health and /metrics
  std::string bind = "0.0.0.0";
  EnrichOptions enrich;
  bool exit_when_idle = false;
  StreamCommandOptions streams;  // --stream-* (stream_options.h)
};

int Fail(const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow enrich: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

int RunEnrich(const EnrichCommandOptions& o) {
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();

  auto provider = OpenStreams(o.data_dir, o.streams, clock, &metrics);
  if (!provider.ok()) return Fail("cannot open streams", provider.status());
  EnrichOptions enrich = o.enrich;
  enrich.journal_dir = EnrichJournalDir(o.data_dir);
  auto runner = EnrichRunner::Create(enrich, provider->get(), &clock, &metrics);
  if (!runner.ok()) {
    (*provider)->Close();
    return Fail("cannot start enrich", runner.status());
  }
  EnrichRunner* r = runner->get();
  AdminServer admin(o.bind, o.port, &metrics, "furrow_enrich_http");
  Status listening = admin.Start();
  if (!listening.ok()) {
    (*provider)->Close();
    return Fail("cannot listen", listening);
  }
  // The signal thread only touches the runner after a signal, which is blocked in
  // every other thread; the process exits right after Wait returns.
  std::thread signals([r] {
    WaitForTerminationSignal();
    r->RequestStop();
  });
  signals.detach();

  log::Info("enrich started", {{"data_dir", o.data_dir},
                               {"enrichments", r->enrichment_names()},
                               {"workers", static_cast<uint64_t>(o.enrich.workers)}});
  r->Start(o.exit_when_idle);
  Status status = r->Wait();
  admin.Stop();
  (*provider)->Close();
  if (!status.ok()) return Fail("enrich stopped", status);
  log::Info("enrich stopped");
  return kExitOk;
}

}  // namespace

void RegisterEnrichCommand(CLI::App& app, Commands& commands) {
  static EnrichCommandOptions o;
  CLI::App* cmd = app.add_subcommand(
      "enrich", "Enrich stage: raw-good -> enriched-good (TSV) and enriched-bad (bad rows)");
  AddDataDirOption(cmd, &o.data_dir);
  AddListenOptions(cmd, &o.port, &o.bind, 8081);
  AddEnrichOptions(cmd, &o.enrich);
  cmd->add_flag("--exit-when-idle", o.exit_when_idle,
                "Exit once raw-good has no more records (one-shot runs)");
  AddStreamOptions(cmd, &o.streams);
  commands.SetRunner(cmd, [] { return RunEnrich(o); });
}

}  // namespace furrow::app
