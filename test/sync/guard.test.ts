import { describe, expect, it } from 'vitest';
import { removalGuard } from '../../src/sync/guard.ts';

describe('removalGuard', () => {
  it.each([
    // removed, active, percent, held?
    [0, 40, 25, false],
    [2, 4, 25, false], // 50 % but only 2 instruments
    [3, 12, 25, false], // exactly 25 % is allowed
    [4, 12, 25, true], // 33 %
    [3, 10, 25, true], // 30 % and more than 2
    [1, 1, 25, true], // every instrument
    [2, 2, 25, true], // every instrument, however few
    [10, 40, 25, false],
    [11, 40, 25, true],
    [5, 1000, 0, true], // 0 %: any removal of more than 2 is held
    [999, 1000, 100, false], // 100 %: only removing everything is held
    [1000, 1000, 100, true],
  ])('removing %i of %i with %i %% allowed: held=%s', (removed, active, percent, held) => {
    expect(removalGuard(removed, active, percent) !== null).toBe(held);
  });

  it('says what would happen, in words', () => {
    expect(removalGuard(40, 42, 25)).toBe(
      'the sync would remove 40 of 42 active instruments (95.2 %, more than the 25 % allowed by RESTRICTED_LIST_MAX_REMOVAL_PERCENT)',
    );
    expect(removalGuard(42, 42, 25)).toBe('the sync would remove every instrument on the list (42)');
  });
});
