// What the browser tests and the screenshot script share: a running OpenPHM app, a headless
// Chromium, and a record of every request and console message of a browser context.
//
// The app is either the one at PHM_WEB_URL (with PHM_WEB_USER and PHM_WEB_PASSWORD for a staff
// account on it), or one started here from nothing, as a new user would:
//   phm demo --population 3000 --seed 99 --data DIR --no-serve
//   phm users add analyst1 --role analyst --accounts DIR/accounts --password-stdin
//   phm serve --profiles DIR/profiles --accounts DIR/accounts --port 0 --insecure-cookies
// DIR is PHM_WEB_DATA when set (kept, so a second run reuses the population and profiles),
// else a temporary folder removed afterwards. The binary is PHM_BIN, else target/debug/phm.
// Each run makes two failed sign-ins from 127.0.0.1 (a wrong password, and an unknown name for
// axe to check the error summary) before signing in; the app makes a username at an address
// wait after three failures and an address after twenty in 15 minutes, and a success clears
// the first, so one app at PHM_WEB_URL takes about ten runs in a quarter of an hour.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(webDir, '..');

/** The areas the tests visit: the ICS and BLMK's four places. */
export const ICS = 'E54000024';
export const PLACES = { Bedford: 'E06000055', 'Central Bedfordshire': 'E06000056', Luton: 'E06000032', 'Milton Keynes': 'E06000042' };

/** The WCAG 2.2 A and AA rules axe-core checks (2.0, 2.1 and 2.2 levels A and AA). */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** Chromium's flags for a quiet, sandbox-free headless run that calls nothing home. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: repoDir, encoding: 'utf8', ...options });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')} could not start: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

/**
 * Starts `phm serve` and resolves with its URL once it prints `... at http://HOST:PORT/`.
 * Rejects with the server's output if it exits first or is not ready within `timeoutMs`.
 */
function serve(phm, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(phm, args, { cwd: repoDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`phm serve printed no URL within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/ at (http:\/\/[^/\s]+\/)/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1].replace(/\/$/, ''), child, output: () => output });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => { output += c; });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`phm serve exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/**
 * A running app: `{ url, user, password, stop() }`. `user` and `password` name an analyst's
 * account on it.
 */
export async function startApp() {
  if (process.env.PHM_WEB_URL) {
    return {
      url: process.env.PHM_WEB_URL.replace(/\/$/, ''),
      user: process.env.PHM_WEB_USER ?? 'analyst1',
      password: process.env.PHM_WEB_PASSWORD,
      stop: async () => {},
    };
  }
  const phm = process.env.PHM_BIN ?? path.join(repoDir, process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'phm');
  if (!existsSync(phm)) throw new Error(`no phm binary at ${phm}: run \`cargo build -p phm\` first, or set PHM_BIN or PHM_WEB_URL`);
  const keep = Boolean(process.env.PHM_WEB_DATA);
  const data = process.env.PHM_WEB_DATA ?? mkdtempSync(path.join(tmpdir(), 'phm-web-'));
  run(phm, ['demo', '--population', '3000', '--seed', '99', '--data', data, '--no-serve'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A fresh accounts folder each run: the account is known, and nothing is left signed in.
  const accounts = mkdtempSync(path.join(tmpdir(), 'phm-accounts-'));
  const user = 'analyst1';
  const password = 'correct horse battery';
  run(phm, ['users', 'add', user, '--role', 'analyst', '--accounts', accounts, '--password-stdin'], { input: `${password}\n` });
  const server = await serve(phm, ['serve', '--profiles', path.join(data, 'profiles'), '--accounts', accounts, '--port', '0', '--insecure-cookies'], 120_000);
  return {
    url: server.url,
    user,
    password,
    serverOutput: server.output,
    stop: async () => {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill();
      await exited;
      rmSync(accounts, { recursive: true, force: true });
      if (!keep) rmSync(data, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Chromium (Debian's package, or CHROMIUM). Playwright gives each launch a fresh,
 * temporary user-data-dir and removes it on close.
 */
export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  return {
    browser,
    /** A new context, recording every request URL and every console error or page error. */
    async newContext(options = {}) {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, ...options });
      const record = { requests: [], errors: [] };
      ctx.on('request', (r) => record.requests.push(r.url()));
      ctx.on('page', (page) => watchPage(page, record));
      return { context: ctx, record };
    },
    async close() {
      await browser.close();
    },
  };
}

function watchPage(page, record) {
  page.on('console', (m) => {
    if (m.type() === 'error') record.errors.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => record.errors.push(`uncaught exception on ${page.url()}: ${e.message}`));
}

/**
 * Waits until every `[data-chart]` on the page has been drawn or has failed, and returns the
 * charts that were not drawn as `id: state` strings (empty when all were drawn).
 */
export async function chartsNotDrawn(page, timeout = 30_000) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-chart]')].every((el) => el.dataset.rendered === 'true' || el.dataset.rendered === 'error'),
    null,
    { timeout },
  ).catch(() => {});
  return page.$$eval('[data-chart]', (els) => els.filter((el) => el.dataset.rendered !== 'true').map((el) => `${el.dataset.chart}: ${el.dataset.rendered ?? 'never drawn'}`));
}

/** The drawn charts whose SVG has no area on the page (e.g. a container-width chart in a box of width 0). */
export async function chartsWithoutSize(page) {
  return page.$$eval('[data-chart][data-rendered="true"]', (els) => els
    .map((el) => [el.dataset.chart, el.querySelector('svg')?.getBoundingClientRect()])
    .filter(([, box]) => !box || box.width < 1 || box.height < 1)
    .map(([id, box]) => `${id}: ${box ? `${box.width}x${box.height}` : 'no svg'}`));
}

const AXE_SOURCE = () => readFileSync(path.join(webDir, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page for the WCAG 2.2 A/AA rules and returns its violations.
 *
 * axe is added as a script element with its source as content. The app's
 * Content-Security-Policy forbids inline scripts, so this needs a context made with
 * `bypassCSP: true` (see `axeContextOptions`).
 */
export async function axeViolations(page) {
  await page.addScriptTag({ content: AXE_SOURCE() });
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 200), summary: n.failureSummary })),
    }));
  }, WCAG_TAGS);
}

/** The options of a context axe can be injected into (inline scripts allowed). */
export const axeContextOptions = { bypassCSP: true };

/** Axe's violations as text a reader can act on: rule, impact, help, and each element. */
export function formatViolations(where, violations) {
  return violations
    .map((v) => `${where}: ${v.id} (${v.impact}): ${v.help}\n  ${v.helpUrl}\n${v.nodes.map((n) => `  - ${n.target}\n    ${n.html}\n    ${(n.summary ?? '').replace(/\n/g, '\n    ')}`).join('\n')}`)
    .join('\n');
}

/** Signs in through the form; resolves with the response to the form's POST. */
export async function signIn(page, baseUrl, user, password) {
  await page.goto(`${baseUrl}/sign-in`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/sign-in') && r.request().method() === 'POST'),
    page.click('form[action="/sign-in"] button[type="submit"]'),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/** Fetches JSON from the app (Node's fetch). */
export async function getJson(baseUrl, pathAndQuery) {
  const r = await fetch(`${baseUrl}${pathAndQuery}`);
  if (!r.ok) throw new Error(`GET ${pathAndQuery}: ${r.status} ${await r.text()}`);
  return r.json();
}
