/**
 * The contract's normalisation rules as small pure functions (rules 3, 4, 6, 7, 8, 9).
 * Every function here is idempotent: applying it to its own output changes nothing, which is
 * what lets the check endpoint normalise a query the same way and compare with `===`.
 */
import type { RestrictionType } from './types.ts';

const FORMAT_CHARS = /\p{Cf}/gu;
const WHITESPACE_RUN = /\s+/g;
const TIDY_ASCII = /^(?:[\x21-\x7e]+(?: [\x21-\x7e]+)*)?$/;

/**
 * Rule 4's text clean-up: invisible format characters (category Cf) removed, Unicode NFC,
 * every whitespace run (including no-break spaces) as one space, trimmed.
 */
export function normaliseText(raw: string): string {
  // Fast path: most cells are plain ASCII words separated by single spaces.
  if (TIDY_ASCII.test(raw)) return raw;
  // Cf first: a removed zero-width character can leave a base letter next to its accent,
  // which NFC must then compose.
  return raw.replace(FORMAT_CHARS, '').normalize('NFC').replace(WHITESPACE_RUN, ' ').trim();
}

const PARENTHESISED = /\([^()]*\)/g;
const LOWER_WORDS = /^[a-z0-9 ]*$/;
const NOT_LETTER_OR_DIGIT = /[^\p{L}\p{Nd}]+/gu;

function lettersAndDigitsOnly(text: string): string {
  return text.replace(NOT_LETTER_OR_DIGIT, ' ').trim();
}

function lowerCased(raw: string): string {
  // Lower-casing can produce decomposed sequences (İ → i + U+0307); NFC again keeps the
  // result stable under a second pass.
  return normaliseText(raw).toLowerCase().normalize('NFC');
}

/**
 * Rule 3: lower-case, text in parentheses (and so a trailing `(s)`) removed, every character
 * that is not a letter or digit a space, whitespace collapsed. `Comment(s)` → `comment`.
 */
export function normaliseColumnName(raw: string): string {
  // Fast path, the same result: tidy ASCII lower-cases to tidy ASCII, which NFC leaves alone, and
  // without parentheses or punctuation nothing else changes.
  if (TIDY_ASCII.test(raw)) {
    const lower = raw.toLowerCase();
    if (LOWER_WORDS.test(lower)) return lower;
  }
  let text = lowerCased(raw);
  // Innermost first, until nothing is left, so nested parentheses go too.
  for (let previous = ''; previous !== text;) {
    previous = text;
    text = text.replace(PARENTHESISED, ' ');
  }
  return lettersAndDigitsOnly(text);
}

/** Rule 3 for restriction-type values: like a column name, but words in parentheses are kept. */
export function normaliseRestrictionValue(raw: string): string {
  return lettersAndDigitsOnly(lowerCased(raw));
}

const RESTRICTION_SYNONYMS: ReadonlyMap<string, RestrictionType> = new Map([
  ...['', 'full', 'full restriction', 'all', 'no trading', 'restricted', 'both'].map(
    (value) => [value, 'full'] as const,
  ),
  ...['buy only', 'buy', 'no buy', 'no buying', 'buy restricted', 'no purchase'].map(
    (value) => [value, 'buy_only'] as const,
  ),
  ...['sell only', 'sell', 'no sell', 'no selling', 'sell restricted', 'no sale'].map(
    (value) => [value, 'sell_only'] as const,
  ),
]);

/**
 * Rule 8: the restriction type a cell names, or `null` when the value is not a known synonym
 * (the caller then restricts fully and warns). An empty cell is `full`.
 */
export function restrictionTypeFor(cellText: string): RestrictionType | null {
  return RESTRICTION_SYNONYMS.get(normaliseRestrictionValue(cellText)) ?? null;
}

/** Rule 11: the more restrictive of two types; `buy_only` + `sell_only` restrict both sides. */
export function mostRestrictive(a: RestrictionType, b: RestrictionType): RestrictionType {
  return a === b ? a : 'full';
}

/** Rule 11's date rules: the earliest effective date, none if any entry has none. */
export function earliestDate(dates: readonly (string | null)[]): string | null {
  if (dates.length === 0 || dates.includes(null)) return null;
  return (dates as string[]).reduce((a, b) => (b < a ? b : a));
}

/** Rule 11's date rules: the latest expiry, none if any entry has none. */
export function latestDate(dates: readonly (string | null)[]): string | null {
  if (dates.length === 0 || dates.includes(null)) return null;
  return (dates as string[]).reduce((a, b) => (b > a ? b : a));
}

const BLOOMBERG_YELLOW_KEYS = new Set([
  'EQUITY',
  'CORP',
  'GOVT',
  'COMDTY',
  'INDEX',
  'CURNCY',
  'MTGE',
  'MUNI',
  'PFD',
]);

/**
 * Rule 6: upper-cased, whitespace collapsed, a trailing Bloomberg yellow key dropped when at
 * least one other word precedes it (`aapl us equity` → `AAPL US`). Repeated yellow keys are all
 * dropped so the result is a fixed point (a query normalised again still matches).
 */
export function normaliseTicker(raw: string): string {
  let ticker = normaliseText(normaliseText(raw).toUpperCase());
  // Words are separated by single spaces now; drop yellow keys from the end while one is left.
  for (let space = ticker.lastIndexOf(' '); space >= 0; space = ticker.lastIndexOf(' ')) {
    if (!BLOOMBERG_YELLOW_KEYS.has(ticker.slice(space + 1))) break;
    ticker = ticker.slice(0, space);
  }
  return ticker;
}

const HAS_LETTER_OR_DIGIT = /[\p{L}\p{Nd}]/u;

/**
 * Whether a normalised ticker piece can identify anything. A lone `-` or `—` in a ticker cell
 * means "none", not an instrument called "-".
 */
export function isMeaningfulTicker(ticker: string): boolean {
  return HAS_LETTER_OR_DIGIT.test(ticker);
}

/**
 * Rule 7's normal form: upper-cased, with whitespace and invisible characters removed (an ISIN
 * never contains a space, so `US 0378331005` is read rather than lost).
 */
export function normaliseIsin(raw: string): string {
  // Visible ASCII holds neither whitespace nor format characters.
  if (VISIBLE_ASCII.test(raw)) return raw.toUpperCase();
  return raw.replace(FORMAT_CHARS, '').replace(WHITESPACE_RUN, '').toUpperCase();
}

const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

const ISIN_SHAPE = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/;

/** ISO 6166 digits: each letter becomes its two-digit value (A=10 … Z=35). */
function isinDigits(text: string): number[] {
  const digits: number[] = [];
  for (const char of text) {
    const code = char.charCodeAt(0);
    // Digits and upper-case letters, what an ISIN is made of, without parseInt's cost.
    const value =
      code >= 48 && code <= 57 ? code - 48 : code >= 65 && code <= 90 ? code - 55 : Number.parseInt(char, 36);
    if (value >= 10) digits.push(Math.floor(value / 10), value % 10);
    else digits.push(value);
  }
  return digits;
}

/** Luhn sum over `digits`, doubling every second digit counted from the right, starting with the last if `doubleLast`. */
function luhnSum(digits: readonly number[], doubleLast: boolean): number {
  let sum = 0;
  let double = doubleLast;
  for (let index = digits.length - 1; index >= 0; index--) {
    const digit = digits[index] ?? 0;
    const value = double ? digit * 2 : digit;
    sum += value > 9 ? value - 9 : value;
    double = !double;
  }
  return sum;
}

/** The ISO 6166 check digit for the first 11 characters of an ISIN (upper-case letters and digits). */
export function isinCheckDigit(first11: string): number {
  return (10 - (luhnSum(isinDigits(first11), true) % 10)) % 10;
}

/** Rule 7: two letters, nine letters-or-digits and a correct ISO 6166 check digit. Exact: no normalisation. */
export function isValidIsin(isin: string): boolean {
  return ISIN_SHAPE.test(isin) && luhnSum(isinDigits(isin), false) % 10 === 0;
}

const MONTHS: ReadonlyMap<string, number> = new Map(
  [
    ['jan', 'january'],
    ['feb', 'february'],
    ['mar', 'march'],
    ['apr', 'april'],
    ['may', 'may'],
    ['jun', 'june'],
    ['jul', 'july'],
    ['aug', 'august'],
    ['sep', 'september'],
    ['oct', 'october'],
    ['nov', 'november'],
    ['dec', 'december'],
  ].flatMap(([short, long], index) => [
    [short ?? '', index + 1],
    [long ?? '', index + 1],
  ]),
);

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Same separator on both sides: `1 Mar 2026` and `01-Mar-2026`, not `1-Mar 2026`.
const DAY_MONTH_YEAR = /^(\d{1,2})([ -])([a-z]+)\2(\d{4})$/i;

function isoDate(year: number, month: number, day: number): string | null {
  if (month < 1 || month > 12 || day < 1) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Rule 9: `YYYY-MM-DD` for an ISO date or a day month-name year date with a four-digit year
 * (`1 Mar 2026`, `01-Mar-2026`, `1 March 2026`, any case); `null` for anything else, including
 * impossible dates such as `31 Feb 2026`. (The date macro reaches here as its ISO `datetime`.)
 */
export function parseDate(text: string): string | null {
  const trimmed = normaliseText(text);
  const iso = ISO_DATE.exec(trimmed);
  if (iso) return isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const named = DAY_MONTH_YEAR.exec(trimmed);
  if (named) {
    const month = MONTHS.get((named[3] ?? '').toLowerCase());
    if (month === undefined) return null;
    return isoDate(Number(named[4]), month, Number(named[1]));
  }
  return null;
}
