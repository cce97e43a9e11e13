// `npm run bench`: every benchmark, each with a baseline measured in the same run.
import { benchParse } from './parse-bench.ts';

const parse = await benchParse();
console.log('parse a generated list page');
console.log(`  rows              ${parse.rows}`);
console.log(`  size              ${(parse.bytes / 1e6).toFixed(1)} MB of storage format`);
console.log(`  parse time        ${parse.ms} ms`);
console.log(`  peak RSS          ${parse.peakRssMb} MB`);
console.log(`  baseline          htmlparser2 tokenizer alone: ${parse.baselineTokenizerMs} ms`);
console.log(`  ratio             ${(parse.ms / parse.baselineTokenizerMs).toFixed(2)}× the tokenizer`);
