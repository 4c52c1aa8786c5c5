// Copies the front-end files the web app serves from the npm packages pinned in
// package-lock.json into vendor/, which is committed and compiled into the `phm` binary
// (crates/phm-web/src/assets.rs): building or running the app needs no npm step.
//
//   node web/vendor.mjs        (after changing a version in web/package.json and `npm install`)
//
// Each package's tarball is fetched with `npm pack NAME@VERSION` (the version package-lock.json
// pins) and its SHA-512 checked against the lock's `integrity` before anything is taken from
// it. vendor/manifest.json records, per package, the name, version, integrity and licence, and
// the SHA-256 of every file taken; crates/phm-web's test `vendored_assets` checks those versions
// and integrities against package-lock.json and those hashes against the files and the
// binary's embedded copies.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const vendor = join(web, 'vendor');

// What the app serves from each package (paths inside the package), and its licence file.
const PACKAGES = [
  { name: 'nhsuk-frontend', files: ['dist/nhsuk/nhsuk-frontend.min.css', 'dist/nhsuk/nhsuk-frontend.min.js', /^dist\/nhsuk\/assets\/images\/[^/]+$/] },
  { name: 'vega', files: ['build/vega.min.js', 'LICENSE'] },
  { name: 'vega-lite', files: ['build/vega-lite.min.js', 'LICENSE'] },
  { name: 'vega-embed', files: ['build/vega-embed.min.js', 'LICENSE'] },
  // A dependency of vega-embed; charts.js imports it so that charts draw without `eval`.
  { name: 'vega-interpreter', files: ['build/vega-interpreter.js', 'LICENSE'] },
];

const lock = JSON.parse(readFileSync(join(web, 'package-lock.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'phm-vendor-'));
rmSync(vendor, { recursive: true, force: true });
const manifest = { packages: [] };
try {
  for (const { name, files } of PACKAGES) {
    const locked = lock.packages[`node_modules/${name}`];
    if (!locked) throw new Error(`${name} is not in package-lock.json`);
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', `${name}@${locked.version}`, '--json', '--pack-destination', work], { encoding: 'utf8' }),
    );
    const tarball = readFileSync(join(work, packed.filename));
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    if (integrity !== locked.integrity) {
      throw new Error(`${name}@${locked.version}: the tarball's ${integrity} is not package-lock.json's ${locked.integrity}`);
    }
    const inside = packed.files.map((f) => f.path);
    const wanted = files.flatMap((f) => (typeof f === 'string' ? [f] : inside.filter((p) => f.test(p)))).sort();
    for (const f of wanted) {
      if (!inside.includes(f)) throw new Error(`${name}@${locked.version} has no ${f}`);
    }
    const out = join(work, name);
    mkdirSync(out);
    execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', out, ...wanted.map((f) => `package/${f}`)]);
    const entry = { name, version: locked.version, integrity: locked.integrity, license: locked.license, files: [] };
    for (const f of wanted) {
      const target = join(vendor, name, f);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(out, 'package', f), target);
      entry.files.push({ path: f, sha256: createHash('sha256').update(readFileSync(target)).digest('hex') });
    }
    manifest.packages.push(entry);
    console.log(`${name}@${locked.version}: ${wanted.length} files`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
writeFileSync(join(vendor, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
