// Parses every enriched TSV line of the file given as argv[2] with the Snowplow
// analytics SDK (npm snowplow-analytics-sdk), which rejects rows that do not have
// exactly 131 fields or whose typed fields do not parse. Prints one JSON object
// per line on stdout; exits 1 on the first line the SDK rejects.
'use strict';
const fs = require('fs');
const path = require('path');
const sdk = require(path.join(__dirname, '..', 'npm', 'node_modules', 'snowplow-analytics-sdk'));

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.length > 0);
let n = 0;
for (const line of lines) {
  try {
    const event = sdk.transform(line);
    if (!event.event_id || !event.collector_tstamp) throw new Error('missing event_id or collector_tstamp');
    process.stdout.write(JSON.stringify(event) + '\n');
    n += 1;
  } catch (e) {
    process.stderr.write(`line ${n + 1} rejected: ${e.message}\n`);
    process.exit(1);
  }
}
process.stderr.write(`${n} lines parsed\n`);
