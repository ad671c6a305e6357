// Drives Debian's Chromium (headless, via playwright-core) on a test page that uses
// @snowplow/browser-tracker against a running `furrow pipeline`:
//   node browser_events.js send COLLECTOR_PORT   page view, a link click (the
//        link_click self-describing event) with a custom context, and a second page
//        view; exits 0 once the collector answered 200 to all of them.
//   node browser_events.js read LAKE_OUTPUT_DIR  prints one JSON line per event in
//        the lake, parsed by snowplow-analytics-sdk: {"event": ...}, or
//        {"sdk_error": "..."} for a line the SDK rejects.
// FURROW_BROWSER_DEBUG=1 logs the page's console, requests and failures.
'use strict';
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const npm = path.join(__dirname, '..', 'npm', 'node_modules');

async function send(collectorPort) {
  const { chromium } = require(path.join(npm, 'playwright-core'));
  const tracker = fs.readFileSync(
    path.join(npm, '@snowplow', 'browser-tracker', 'dist', 'index.umd.min.js'));
  const page = `<!doctype html><html><head><title>furrow browser test</title>
<script src="/sp.js"></script></head><body><a id="link" href="#target">target</a>
<script>
  const sp = window.snowplowBrowserTracking;
  sp.newTracker('t1', 'http://127.0.0.1:${collectorPort}', {
    appId: 'browser-test', eventMethod: 'post', bufferSize: 1, cookieSameSite: 'Lax',
    cookieSecure: false, contexts: { webPage: true } });
  sp.trackPageView();
  document.getElementById('link').addEventListener('click', (e) => {
    sp.trackSelfDescribingEvent({
      event: { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
               data: { targetUrl: e.target.href, elementId: 'link' } },
      context: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
                  data: { id: '00000000-0000-4000-8000-00000000c0de' } }] });
  });
</script></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/sp.js') {
      res.writeHead(200, { 'Content-Type': 'application/javascript' });
      res.end(tracker);
    } else {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'furrow-chromium-'));
  // A fresh profile directory (playwright's way of passing --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let acknowledged = 0;
  try {
    const tab = context.pages()[0] || await context.newPage();
    if (process.env.FURROW_BROWSER_DEBUG) {
      tab.on('console', (m) => console.error('console:', m.text()));
      tab.on('request', (r) => console.error('request:', r.method(), r.url()));
      tab.on('requestfailed', (r) => console.error('failed:', r.url(), r.failure() && r.failure().errorText));
    }
    tab.on('response', (r) => {
      if (r.url().includes(`:${collectorPort}/`) && r.request().method() === 'POST' &&
          r.status() === 200) {
        acknowledged++;
      }
    });
    const waitFor = async (n) => {
      for (let i = 0; i < 600 && acknowledged < n; i++) await tab.waitForTimeout(50);
      if (acknowledged < n) throw new Error(`only ${acknowledged} of ${n} events acknowledged`);
    };
    await tab.goto(`http://127.0.0.1:${server.address().port}/`);
    await waitFor(1);
    await tab.click('#link');
    await waitFor(2);
    await tab.reload();
    await waitFor(3);
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(`acknowledged ${acknowledged}`);
}

function read(dir) {
  const { transform } = require(path.join(npm, 'snowplow-analytics-sdk'));
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
  for (const file of walk(dir)) {
    if (path.basename(file).startsWith('.')) continue;
    const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        console.log(JSON.stringify({ event: transform(line) }));
      } catch (e) {
        console.log(JSON.stringify({ sdk_error: String(e.message).split('\n')[0] }));
      }
    }
  }
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'send') {
  send(arg).catch((e) => { console.error(e); process.exit(1); });
} else if (mode === 'read') {
  read(arg);
} else {
  console.error('usage: node browser_events.js send PORT | read DIR');
  process.exit(2);
}
