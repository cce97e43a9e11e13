// `npm run bench`: every benchmark, each with a baseline measured in the same run.
import { benchParse } from './parse-bench.ts';
import { benchCheck, printCheckBench } from './check-bench.ts';
import { benchIndex, printIndexBench } from './index-bench.ts';
import { benchSync } from './sync-bench.ts';

const ratio = (value: number, baseline: number) => `${(value / baseline).toFixed(2)}×`;

const parse = await benchParse();
console.log('parse a generated list page (cold, in its own process)');
console.log(`  rows              ${parse.rows}`);
console.log(`  size              ${(parse.bytes / 1e6).toFixed(1)} MB of storage format`);
console.log(`  parse time        ${parse.ms} ms   (target < 3000 ms)`);
console.log(`  peak RSS          ${parse.peakRssMb} MB   (target < 300 MB)`);
console.log(
  `  baseline          htmlparser2 tokenizer alone: ${parse.baselineTokenizerMs} ms; parse = ${ratio(parse.ms, parse.baselineTokenizerMs)}`,
);

const sync = await benchSync();
console.log(`\nsync a ${sync.rows}-row page end to end (Temporal + Postgres + fake Confluence over HTTP)`);
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
