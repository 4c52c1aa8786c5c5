// The web app in a real browser (headless Chromium): what a visitor sees, clicks, downloads
// and reads without JavaScript, what staff see after signing in, and the WCAG 2.2 A/AA rules
// axe-core checks. Run with `npm test --prefix web` after `cargo build -p phm` (the app is
// started from nothing; see app.mjs), or against a running app with PHM_WEB_URL.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';

import {
  ICS, PLACES, axeContextOptions, axeViolations, chartsNotDrawn, chartsWithoutSize, formatViolations, getJson, launchBrowser, signIn, startApp,
} from './app.mjs';

const app = await startApp();
const browser = await launchBrowser();
after(async () => {
  await browser.close();
  await app.stop();
});

// Areas and indicators come from the API, so the tests follow whatever the profiles hold.
const neighbourhoods = (await getJson(app.url, '/api/areas?type=neighbourhood')).areas;
const lutonNeighbourhood = neighbourhoods.find((a) => a.parent === PLACES.Luton) ?? neighbourhoods[0];
const INDICATOR = 'mmr1_by_24_months';

/**
 * Every kind of page, with the fewest charts it must draw (so a page that silently lost its
 * charts fails too) and the sections a reader relies on.
 */
const PAGE_TYPES = [
  { name: 'ICS overview', path: '/', charts: 5, text: ['Places', 'Luton'] },
  { name: 'ICS profile', path: `/areas/${ICS}`, charts: 4, text: ['Indicators compared', 'Neighbourhoods', 'Population', 'Trends'] },
  { name: 'place profile', path: `/areas/${PLACES.Luton}`, charts: 4, text: ['Indicators compared', 'Neighbourhoods', 'Population', 'Trends'] },
  { name: 'neighbourhood profile', path: `/areas/${lutonNeighbourhood.code}`, charts: 3, text: ['Indicators compared', 'Population', 'Trends'] },
  { name: 'indicator list', path: '/indicators', charts: 0, text: ['MMR: first dose by the second birthday'] },
  { name: 'indicator', path: `/indicators/${INDICATOR}?area=${PLACES.Bedford}`, charts: 3, text: ['Trend', 'Neighbourhoods of Bedford', 'Downloads', 'Definition'] },
  { name: 'inequalities', path: '/inequalities', charts: 2, text: ['The life expectancy gap', 'By IMD decile'] },
  { name: 'inequalities for a place', path: `/inequalities?indicator=${INDICATOR}&area=${PLACES['Milton Keynes']}`, charts: 1, text: ['Milton Keynes'] },
  { name: 'data quality', path: '/data-quality', charts: 0, text: ['Records read, accepted and rejected at ingest, per source'] },
  { name: 'about', path: '/about', charts: 0, text: [] },
  { name: 'sign-in', path: '/sign-in', charts: 0, text: ['Username', 'Password'] },
];

/** The error pages, which visitors also reach. */
const ERROR_PAGES = [
  { name: 'bad parameter (400)', path: `/indicators/${INDICATOR}?area=NOPE`, status: 400 },
  { name: 'no such page (404)', path: '/no-such-page', status: 404 },
];

/** Request URLs that go anywhere but the app on 127.0.0.1 (data: and blob: URLs stay in the page). */
function offsite(requests) {
  return requests.filter((u) => {
    const url = new URL(u);
    if (url.protocol === 'data:' || url.protocol === 'blob:') return false;
    return url.hostname !== '127.0.0.1';
  });
}

/** A context that records requests and errors, and refuses (and records) any request off 127.0.0.1. */
async function newContext(options = {}) {
  const made = await browser.newContext(options);
  await made.context.route((url) => url.protocol.startsWith('http') && url.hostname !== '127.0.0.1', (route) => route.abort('blockedbyclient'));
  return made;
}

describe('every page type loads, draws its charts under the Content-Security-Policy and stays on 127.0.0.1', () => {
  for (const p of PAGE_TYPES) {
    test(`${p.name}: ${p.path}`, async () => {
      const { context, record } = await newContext();
      try {
        const page = await context.newPage();
        const response = await page.goto(app.url + p.path);
        assert.equal(response.status(), 200, `${p.path} answered ${response.status()}`);
        assert.equal(await page.locator('h1').count(), 1, `${p.path} should have exactly one h1`);
        for (const t of p.text) {
          assert.ok((await page.locator('main').innerText()).includes(t), `${p.path} should show "${t}"`);
        }
        // A figure whose values are all suppressed keeps its table and draws no chart, so the
        // figures are counted; every chart that is drawn must be drawn.
        const charts = await page.locator('figure.phm-chart, .phm-spark [data-chart]').count();
        assert.ok(charts >= p.charts, `${p.path} has ${charts} figures and charts, expected at least ${p.charts}`);
        assert.deepEqual(await chartsNotDrawn(page), [], `${p.path}: every chart should reach data-rendered="true"`);
        assert.deepEqual(await chartsWithoutSize(page), [], `${p.path}: every chart is drawn with a width and a height`);
        // Each chart figure has its table alternative.
        const figures = await page.locator('figure.phm-chart').count();
        assert.equal(await page.locator('figure.phm-chart table').count(), figures, `${p.path}: every chart has a table`);
        assert.equal(
          await page.locator('figure.phm-chart [data-chart]').count(),
          await page.locator('figure.phm-chart > details.phm-chart__table table').count(),
          `${p.path}: every drawn chart has its table behind a "Table:" summary`,
        );
        assert.deepEqual(record.errors, [], `${p.path}: no console errors`);
        assert.deepEqual(offsite(record.requests), [], `${p.path}: no request may leave 127.0.0.1`);
        assert.ok(record.requests.some((u) => u.includes('/static/vega/vega.min.js')), 'the page loads Vega from the app itself');
      } finally {
        await context.close();
      }
    });
  }
});

test('a visitor clicks from the overview to a place, a neighbourhood and an indicator, and downloads its CSV', async () => {
  const { context, record } = await newContext();
  try {
    const page = await context.newPage();
    await page.goto(app.url + '/');
    await page.getByRole('link', { name: 'Luton', exact: true }).click();
    await page.waitForURL(`**/areas/${PLACES.Luton}`);
    assert.equal(await page.locator('h1').innerText(), 'Luton');

    // Once the hex map is drawn its table folds away; the visitor opens it, and it links to
    // each neighbourhood.
    const mapFigure = page.locator('figure.phm-chart', { has: page.locator('[data-chart="map-spec"]') });
    assert.deepEqual(await chartsNotDrawn(page), []);
    await mapFigure.locator('summary').click();
    const neighbourhoodLink = mapFigure.locator('table a[href^="/areas/"]').first();
    const neighbourhoodName = (await neighbourhoodLink.innerText()).trim();
    await neighbourhoodLink.click();
    await page.waitForURL('**/areas/SYN*');
    const neighbourhoodCode = new URL(page.url()).pathname.split('/').pop();
    assert.equal(await page.locator('h1').innerText(), neighbourhoodName);
    assert.ok((await page.locator('.nhsuk-caption-l').innerText()).includes('in Luton'), 'the neighbourhood says which place it is in');

    // The spine chart's table links to each indicator for this neighbourhood.
    const spineFigure = page.locator('figure.phm-chart', { has: page.locator('[data-chart="spine-spec"]') });
    assert.deepEqual(await chartsNotDrawn(page), []);
    await spineFigure.locator('summary').click();
    await spineFigure.locator(`a[href="/indicators/${INDICATOR}?area=${neighbourhoodCode}"]`).click();
    await page.waitForURL(`**/indicators/${INDICATOR}?area=${neighbourhoodCode}`);
    assert.equal(await page.locator('h1').innerText(), 'MMR: first dose by the second birthday');
    assert.equal(await page.locator('select#area').inputValue(), neighbourhoodCode);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /\(CSV\)$/ }).click()]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r?\n/);
    const header = csv[0].split(',');
    for (const column of ['indicator', 'area_code', 'breakdown', 'category', 'numerator', 'denominator', 'value', 'lower_95', 'upper_95']) {
      assert.ok(header.includes(column), `the CSV header should have \`${column}\`: ${csv[0]}`);
    }
    const rows = csv.slice(1);
    assert.ok(rows.length > 0, 'the CSV has rows');
    const at = (name) => header.indexOf(name);
    for (const row of rows) {
      const cells = row.split(',');
      assert.equal(cells[at('indicator')], INDICATOR, `every row is the indicator's: ${row}`);
    }
    assert.ok(rows.some((r) => r.includes(neighbourhoodCode)), 'the CSV holds the neighbourhood');
    assert.deepEqual(record.errors, []);
    assert.deepEqual(offsite(record.requests), []);
  } finally {
    await context.close();
  }
});

describe('without JavaScript, the tables are there and the forms work', () => {
  test('a place profile shows the spine table, the neighbourhoods and the population, with no chart drawn', async () => {
    const { context } = await newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/areas/${PLACES.Bedford}`);
      const spineRows = page.locator('figure.phm-chart').first().locator('tbody tr');
      const indicators = (await getJson(app.url, `/api/profiles?area=${PLACES.Bedford}&breakdown=all&limit=10000`)).rows;
      assert.ok((await spineRows.count()) > 0, 'the spine table has rows');
      assert.ok(await spineRows.first().isVisible(), 'the spine table is shown, not folded away');
      assert.equal(await spineRows.count(), new Set(indicators.map((r) => r.indicator)).size, 'one spine row per indicator reported for Bedford');
      assert.equal(await page.locator('[data-chart][data-rendered]').count(), 0, 'no chart was drawn');
      assert.ok(await page.locator('#neighbourhoods ~ figure table tbody tr').first().isVisible(), 'the neighbourhoods table is shown');
    } finally {
      await context.close();
    }
  });

  test('choosing an area and pressing Show opens the indicator for that area', async () => {
    const { context } = await newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/indicators/${INDICATOR}`);
      await page.selectOption('select#area', PLACES['Central Bedfordshire']);
      await Promise.all([page.waitForURL(`**/indicators/${INDICATOR}?area=${PLACES['Central Bedfordshire']}`), page.getByRole('button', { name: 'Show' }).click()]);
      assert.ok((await page.locator('.nhsuk-card__heading').first().innerText()).startsWith('Central Bedfordshire'));
    } finally {
      await context.close();
    }
  });

  test('the inequalities form changes indicator and area', async () => {
    const { context } = await newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(`${app.url}/inequalities`);
      await page.selectOption('select#indicator', INDICATOR);
      await page.selectOption('select#area', PLACES.Luton);
      await Promise.all([page.waitForURL(`**/inequalities?indicator=${INDICATOR}&area=${PLACES.Luton}`), page.getByRole('button', { name: 'Show' }).click()]);
      assert.ok((await page.locator('.nhsuk-lede-text').innerText()).includes('in Luton'));
      assert.ok((await page.locator('figure.phm-chart tbody tr').count()) > 0, 'the breakdown tables have rows');
    } finally {
      await context.close();
    }
  });
});

test('staff sign in (a wrong password is refused with 401), see the data-quality detail the public does not, and sign out', async () => {
  assert.ok(app.password, 'PHM_WEB_PASSWORD must name the password of PHM_WEB_USER on the app at PHM_WEB_URL');
  const { context, record } = await newContext();
  try {
    const page = await context.newPage();
    const detail = ['Reasons for rejection', 'Failing checks'];
    const headings = async () => page.locator('main h2').allInnerTexts();

    await page.goto(`${app.url}/data-quality`);
    for (const h of detail) assert.ok(!(await headings()).includes(h), `the public should not see "${h}"`);

    const refused = await signIn(page, app.url, app.user, 'not the password');
    assert.equal(refused.status(), 401);
    const summary = page.locator('.nhsuk-error-summary');
    assert.ok(await summary.isVisible(), 'an error summary is shown');
    assert.match(await summary.innerText(), /There is a problem/);
    assert.equal(await page.locator('#username').inputValue(), app.user, 'the username is kept');
    assert.equal(await page.locator('#password').inputValue(), '', 'the password is not');

    const accepted = await signIn(page, app.url, app.user, app.password);
    assert.ok([302, 303].includes(accepted.status()), `a right password redirects (got ${accepted.status()})`);
    assert.ok((await page.locator('header').innerText()).includes(`Signed in as ${app.user}`));

    await page.goto(`${app.url}/data-quality`);
    for (const h of detail) assert.ok((await headings()).includes(h), `signed-in staff see "${h}"`);

    await Promise.all([page.waitForURL(`${app.url}/`), page.getByRole('button', { name: 'Sign out' }).click()]);
    assert.ok(await page.getByRole('link', { name: 'Staff sign in' }).isVisible(), 'after signing out the sign-in link is back');
    await page.goto(`${app.url}/data-quality`);
    for (const h of detail) assert.ok(!(await headings()).includes(h), `after signing out "${h}" is gone`);
    assert.deepEqual(offsite(record.requests), []);
  } finally {
    await context.close();
  }
});

describe('axe-core finds no WCAG 2.2 A/AA violations', () => {
  const check = async (path, { signedIn = false, status = 200 } = {}) => {
    const { context } = await newContext(axeContextOptions);
    try {
      const page = await context.newPage();
      if (signedIn) await signIn(page, app.url, app.user, app.password);
      const response = await page.goto(app.url + path);
      assert.equal(response.status(), status);
      await chartsNotDrawn(page);
      const violations = await axeViolations(page);
      assert.equal(violations.length, 0, `axe found ${violations.length} violations on ${path}:\n${formatViolations(path, violations)}`);
    } finally {
      await context.close();
    }
  };
  for (const p of PAGE_TYPES) test(`${p.name}: ${p.path}`, () => check(p.path));
  for (const p of ERROR_PAGES) test(`${p.name}: ${p.path}`, () => check(p.path, { status: p.status }));
  test('data quality, signed in', () => check('/data-quality', { signedIn: true }));
  test('sign-in with an error summary', async () => {
    const { context } = await newContext(axeContextOptions);
    try {
      const page = await context.newPage();
      await signIn(page, app.url, 'nobody-at-all', 'wrong');
      const violations = await axeViolations(page);
      assert.equal(violations.length, 0, formatViolations('/sign-in (refused)', violations));
    } finally {
      await context.close();
    }
  });
});

describe('a malformed address gets a 400 that names the parameter, never a 500', () => {
  test('a page: an unknown area code', async () => {
    const { context } = await newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`${app.url}/indicators/${INDICATOR}?area=NOPE`);
      assert.equal(response.status(), 400);
      assert.equal(await page.locator('h1').innerText(), 'There is a problem with the address');
      const text = await page.locator('main').innerText();
      assert.match(text, /`?area`?/);
      assert.ok(text.includes('NOPE'), 'the message quotes the bad value');
    } finally {
      await context.close();
    }
  });

  const apiCases = [
    ['/api/profiles?limit=lots', 'limit'],
    ['/api/profiles?breakdown=shoe_size', 'breakdown'],
    ['/api/areas?type=county', 'type'],
    ['/api/trends', 'indicator'],
    ['/api/population?area=E99999999', 'area'],
    ['/download/profiles.csv?colour=blue', 'colour'],
    ['/download/profiles.pdf', 'pdf'],
  ];
  for (const [path, parameter] of apiCases) {
    test(`${path} names \`${parameter}\``, async () => {
      const r = await fetch(app.url + path);
      assert.equal(r.status, 400);
      const body = await r.json();
      assert.equal(body.error, 400);
      assert.ok(body.message.includes(parameter), `the message names \`${parameter}\`: ${body.message}`);
    });
  }
});
