// Opens the receiver's upload page in headless Chromium, chooses a payload file,
// submits the form, and prints the result page's heading and message.
// Usage: node tests/receiver/upload_page.js URL_OF_/usage_data/new PAYLOAD_FILE
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'npm', 'node_modules', 'playwright-core'));

(async () => {
  const [url, file] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
           '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.setInputFiles('#file', path.resolve(file));
    await Promise.all([page.waitForNavigation(), page.click('#submit')]);
    const heading = await page.textContent('#result');
    const message = await page.textContent('#message');
    console.log(heading);
    console.log(message);
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
