// Sends events to a collector with the real Snowplow Node tracker
// (@snowplow/node-tracker from tests/npm): a page view, a structured event and a
// self-describing event, once through a GET emitter and once through a POST emitter
// (one batch of three). Usage: node send_events.js http://127.0.0.1:PORT
// Prints {"sent":N,"failures":M} and exits 1 if any request failed.
'use strict';
const path = require('path');
const {
  newTracker,
  buildPageView,
  buildStructEvent,
  buildSelfDescribingEvent,
} = require(path.join(__dirname, '..', 'npm', 'node_modules', '@snowplow', 'node-tracker'));

async function main() {
  const url = new URL(process.argv[2]);
  let sent = 0;
  let failures = 0;
  for (const [method, bufferSize] of [['get', 1], ['post', 3]]) {
    const tracker = newTracker(
      { namespace: `ns-${method}`, appId: `furrow-test-${method}`, encodeBase64: false },
      {
        endpoint: url.host,
        protocol: url.protocol.replace(':', ''),
        eventMethod: method,
        bufferSize,
        retryFailedRequests: false,
        onRequestSuccess: (batch) => { sent += batch.length; },
        onRequestFailure: (failure) => {
          failures += 1;
          console.error(`request failed: ${failure.status} ${failure.message}`);
        },
      });
    tracker.setUserId('user-42');
    tracker.track(buildPageView({
      pageUrl: 'https://shop.example.com/products?id=7',
      pageTitle: 'Product 7',
      referrer: 'https://search.example.org/?q=boots',
    }));
    tracker.track(buildStructEvent({
      category: 'shop', action: 'add-to-basket', label: 'sku-7', property: 'size', value: 2,
    }));
    tracker.track(buildSelfDescribingEvent({
      event: { schema: 'iglu:com.acme/checkout/jsonschema/1-0-0', data: { step: 2, total: 19.99 } },
    }));
    await tracker.flush();
  }
  // The tracker reports success from a setTimeout(0) scheduled during flush; a timer
  // scheduled now runs after those.
  await new Promise((resolve) => setTimeout(resolve, 0));
  console.log(JSON.stringify({ sent, failures }));
  process.exit(failures === 0 && sent === 6 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
