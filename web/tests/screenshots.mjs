// Full-page screenshots of each page type, 1280 pixels wide, for docs/web.md:
//   node web/tests/screenshots.mjs [OUT_DIR]        (default OUT_DIR: docs/screenshots)
// against the app at PHM_WEB_URL (with PHM_WEB_USER/PHM_WEB_PASSWORD for the signed-in
// data-quality page), or one started from nothing as app.mjs describes. Each page is taken
// once its charts are drawn; a chart that is not drawn, or a page that does not answer 200,
// stops the script with an error naming it.

import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { ICS, PLACES, chartsNotDrawn, getJson, launchBrowser, repoDir, signIn, startApp } from './app.mjs';

/** The pages shown in the user guide, by file name. */
async function shots(url) {
  const neighbourhoods = (await getJson(url, '/api/areas?type=neighbourhood')).areas;
  const neighbourhood = neighbourhoods.find((a) => a.parent === PLACES.Luton) ?? neighbourhoods[0];
  return [
    { file: 'overview.png', path: '/' },
    { file: 'place.png', path: `/areas/${PLACES.Luton}` },
    { file: 'neighbourhood.png', path: `/areas/${neighbourhood.code}` },
    // Indicators with figures to show even in a small population (most MMR figures of a
    // 3,000-person one are suppressed).
    { file: 'indicator.png', path: `/indicators/smoking_prevalence?area=${PLACES.Luton}` },
    { file: 'inequalities.png', path: `/inequalities?indicator=hypertension_prevalence&area=${ICS}` },
    { file: 'data-quality.png', path: '/data-quality', signedIn: true },
  ];
}

export async function takeScreenshots(app, outDir) {
  mkdirSync(outDir, { recursive: true });
  const browser = await launchBrowser();
  const written = [];
  try {
    const { context } = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const signedIn = Boolean(app.password) && (await signIn(page, app.url, app.user, app.password)).status() < 400;
    const { context: publicContext } = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const publicPage = await publicContext.newPage();
    for (const shot of await shots(app.url)) {
      const p = shot.signedIn && signedIn ? page : publicPage;
      const response = await p.goto(app.url + shot.path);
      if (response.status() !== 200) throw new Error(`${shot.path} answered ${response.status()}`);
      const notDrawn = await chartsNotDrawn(p);
      if (notDrawn.length) throw new Error(`${shot.path}: charts not drawn: ${notDrawn.join(', ')}`);
      const file = path.join(outDir, shot.file);
      await p.screenshot({ path: file, fullPage: true });
      written.push(file);
    }
    await context.close();
    await publicContext.close();
  } finally {
    await browser.close();
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = path.resolve(process.argv[2] ?? path.join(repoDir, 'docs', 'screenshots'));
  const app = await startApp();
  try {
    for (const file of await takeScreenshots(app, outDir)) console.log(`wrote ${path.relative(process.cwd(), file)}`);
  } finally {
    await app.stop();
  }
}
