// `npm run bench`: every benchmark, each with a baseline measured in the same run.
import { ROWS } from './generate-page.ts';
import { benchParse, cpuFigures, ratio } from './parse-bench.ts';
import { benchCheck, printCheckBench } from './check-bench.ts';
import { benchIndex, printIndexBench } from './index-bench.ts';
import { benchSync } from './sync-bench.ts';

// The parse's targets: a typical page fast in absolute terms, the largest close to the cost of
// building its DOM at all.
const PARSE_TARGET_MS_2K = 100;
const PARSE_TARGET_RATIO_50K = 1.6;
const PARSE_TARGET_RSS_MB = 700;

for (const parse of await benchParse()) {
  const target =
    parse.rows < ROWS
      ? `target ≤ ${PARSE_TARGET_MS_2K} ms`
      : `target ≤ ${PARSE_TARGET_RATIO_50K}× parseDocument`;
  console.log(`parse a generated ${parse.rows}-row list page (cold, in its own process)`);
  console.log(`  size              ${(parse.bytes / 1e6).toFixed(1)} MB of storage format`);
  console.log(`  parse time        ${parse.ms} ms   (${target})`);
  console.log(
    `  warm parse        ${parse.warmMs} ms, median of the next runs in the same process (a running worker's later syncs); parseDocument warm: ${parse.baseline.warmMs} ms, parse = ${ratio(parse.warmMs, parse.baseline.warmMs)}`,
  );
  console.log(`  peak RSS          ${parse.peakRssMb} MB   (target ≤ ${PARSE_TARGET_RSS_MB} MB)`);
  console.log(
    `  baseline          htmlparser2 parseDocument, same options: ${parse.baseline.ms} ms, peak RSS ${parse.baseline.peakRssMb} MB; parse = ${ratio(parse.ms, parse.baseline.ms)}`,
  );
  console.log(
    `  for information   ${cpuFigures(parse)}; htmlparser2 tokenizer alone: ${parse.baselineTokenizerMs} ms`,
  );
  console.log('');
}

const sync = await benchSync();
console.log(`sync a ${sync.rows}-row page end to end (Temporal + Postgres + fake Confluence over HTTP)`);
console.log(`  baseline          download through confluence.js + parse: ${sync.baselineMs} ms`);
console.log(
  `  first sync        ${sync.firstSyncMs} ms   (target < 15000 ms; ${ratio(sync.firstSyncMs, sync.baselineMs)} the baseline)`,
);
console.log(
  `  unchanged re-sync ${sync.unchangedSyncMs} ms   (target < 3000 ms; ${ratio(sync.unchangedSyncMs, sync.baselineMs)} the baseline)`,
);
console.log(
  `  one-row edit      ${sync.oneEditSyncMs} ms   (${ratio(sync.oneEditSyncMs, sync.baselineMs)} the baseline)`,
);

console.log('');
printCheckBench(await benchCheck());

console.log('');
printIndexBench(await benchIndex());
