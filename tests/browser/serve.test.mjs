// End-to-end test of `backprop serve` in a real browser (Debian's chromium, driven by
// playwright-core): load the page, train, see the curves gain points, draw a stroke and see a
// prediction, hover a neuron, switch to Russian, export the model; no console errors.
// Screenshots go to target/serve-*.png. Run from the repository root after `cargo build`:
//   node tests/browser/serve.test.mjs            (BACKPROP_BIN overrides target/debug/backprop)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.BACKPROP_BIN || join(root, 'target', 'debug', 'backprop');
const out = join(root, 'target');
mkdirSync(out, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error('FAILED: ' + message);
  console.log('ok - ' + message);
}

// Start the server on a free port and read the URL it prints.
const server = spawn(bin, ['serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolveUrl, reject) => {
  let text = '';
  const timer = setTimeout(() => reject(new Error('no URL printed in 30 s: ' + text)), 30000);
  server.stdout.on('data', (chunk) => {
    text += chunk;
    const m = text.match(/http:\/\/\S+\//);
    if (m) { clearTimeout(timer); resolveUrl(m[0]); }
  });
  server.on('exit', (code) => reject(new Error('server exited with ' + code + ': ' + text)));
});
console.log('server at ' + url);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true, locale: 'en-US' });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => {
    // A request cancelled by the reload (the event stream, a live refresh) is not a failure.
    const why = r.failure() ? r.failure().errorText : '';
    if (why !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} (${why})`);
  });

  // Settings in a link only fill the form: opening it sends no reset (a page of another site
  // could link here), and the server's network stays as it was until the user clicks.
  const resets = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/reset')) resets.push(r.url()); });
  await page.goto(url + '?layers=784,20,10&seed=7&lang=en');
  await page.waitForFunction(() => /ready/.test(document.getElementById('status').textContent));
  await page.waitForTimeout(500);
  const sizes = await page.evaluate(async () => (await (await fetch('/api/state')).json()).sizes);
  check(resets.length === 0 && sizes.join(',') === '784,30,10', 'a link with settings fills the form and resets nothing');
  check(await page.locator('#settings [name=layers]').inputValue() === '784,20,10', 'the link\'s settings are in the form');
  const headers = (await page.goto(url)).headers();
  check(headers['x-frame-options'] === 'DENY' && /frame-ancestors 'none'/.test(headers['content-security-policy']), 'the page may not be framed');

  // Two epochs keep the test short; the settings live in the URL (applied by Start).
  await page.goto(url + '?epochs=2&lang=en');
  await page.waitForFunction(() => /ready|training/.test(document.getElementById('status').textContent));
  check(await page.locator('#train h2').textContent() === '1. Train', 'the page loads in English');
  await page.waitForFunction(() => document.getElementById('predicted').textContent.match(/^\d$/));
  check(true, 'a test example is shown with its prediction');

  // Train: the curves gain points.
  await page.click('#start');
  // (A point per chunk of about 0.15 s and one per epoch: a fast machine may train both epochs
  // in one chunk, so two points is all that can be counted on.)
  check(await page.locator('#cost-chart').getAttribute('data-points') === '0', 'the cost curve starts empty');
  await page.waitForFunction(() => Number(document.getElementById('cost-chart').dataset.points) >= 2, null, { timeout: 60000 });
  check(true, 'the cost curve gains points while training');
  await page.waitForFunction(() => Number(document.getElementById('accuracy-chart').dataset.points) >= 1, null, { timeout: 120000 });
  check(true, 'the accuracy curve gains a point after an epoch');
  check(/\d[\d,]* samples\/s/.test(await page.locator('#status').textContent()), 'samples/s are shown');

  // Draw a stroke (a "1") on the canvas: a prediction comes back while drawing.
  await page.click('#clear');
  const pad = await page.locator('#pad').boundingBox();
  const predicted = page.waitForResponse((r) => r.url().endsWith('/api/predict') && r.status() === 200);
  await page.mouse.move(pad.x + pad.width * 0.52, pad.y + pad.height * 0.18);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(pad.x + pad.width * (0.52 - 0.01 * i / 12), pad.y + pad.height * (0.18 + 0.64 * i / 12));
  await page.mouse.up();
  const answer = await (await predicted).json();
  check(Number.isInteger(answer.class) && answer.output.length === 10, 'drawing gives a prediction: class ' + answer.class);
  await page.waitForFunction(() => document.querySelectorAll('#bars .bar').length === 10);
  check(true, 'a^(L) is drawn as 10 bars');

  // The five steps, once training is over (so that the page stops redrawing them): hover a
  // neuron of δ^(2) and see its formula with its numbers.
  await page.waitForFunction(() => /finished/.test(document.getElementById('status').textContent), null, { timeout: 120000 });
  await page.click('#pick');
  await page.waitForFunction(() => document.querySelectorAll('#step-list .step').length === 5);
  await page.screenshot({ path: join(out, 'serve-en.png'), fullPage: true });
  await page.screenshot({ path: join(out, 'serve.png') }); // the README's picture (docs/serve.png)
  const delta2 = page.locator('#step-list .step').nth(3).locator('.strip canvas').first();
  await delta2.hover({ position: { x: 40, y: 9 } });
  const tip = await page.locator('#tooltip').textContent();
  check(/δ.*=.*·.*=/.test(tip), 'hovering δ⁽²⁾ shows BP2 with numbers: ' + tip);
  await page.screenshot({ path: join(out, 'serve-en.png'), fullPage: true });

  // Russian, from the button; the URL keeps it.
  await page.click('#lang-ru');
  check(await page.locator('#train h2').textContent() === '1. Обучение', 'the page switches to Russian');
  check(page.url().includes('lang=ru'), 'the language is kept in the URL');
  await page.reload();
  await page.waitForFunction(() => document.getElementById('start').textContent === 'Старт');
  check(true, 'reloading the URL keeps Russian');
  await page.waitForFunction(() => document.querySelectorAll('#step-list .step').length === 5);
  await page.screenshot({ path: join(out, 'serve-ru.png'), fullPage: false });

  // Export the model: a safetensors file with the backprop metadata.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-model')]);
  const path = join(out, 'serve-model.safetensors');
  await download.saveAs(path);
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
  check(header.__metadata__.format === 'backprop' && header['layers.2.weight'].shape.join() === '30,784', 'the model exports as safetensors');
  const [onnx] = await Promise.all([page.waitForEvent('download'), page.click('#export-onnx')]);
  await onnx.saveAs(join(out, 'serve-model.onnx'));
  check(readFileSync(join(out, 'serve-model.onnx')).length > 4 * 23860, 'the model exports as ONNX');
  const [trace] = await Promise.all([page.waitForEvent('download'), page.click('#export-trace')]);
  await trace.saveAs(join(out, 'serve-trace.json'));
  check(JSON.parse(readFileSync(join(out, 'serve-trace.json'))).layers.length === 3, 'the trace exports as JSON');

  check(problems.length === 0, 'no errors in the browser console' + (problems.length ? ':\n' + problems.join('\n') : ''));
} finally {
  await browser.close();
  server.kill('SIGINT');
}
const code = await new Promise((r) => server.on('exit', (c) => r(c)));
check(code === 0, 'Ctrl-C (SIGINT) stops the server cleanly');
