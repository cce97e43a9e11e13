/**
 * The removal guard (contract, "Sync semantics"): a diff that would deactivate more than
 * `maxRemovalPercent` % of the active list and more than 2 instruments, or every instrument, is
 * held for an operator's decision. An emptied or reformatted page must never silently lift
 * restrictions.
 */
export function removalGuard(
  removed: number,
  activeBefore: number,
  maxRemovalPercent: number,
): string | null {
  if (removed === 0 || activeBefore === 0) return null;
  if (removed === activeBefore) {
    return `the sync would remove every instrument on the list (${removed})`;
  }
  if (removed > 2 && removed * 100 > maxRemovalPercent * activeBefore) {
    const percent = Math.round((removed * 1000) / activeBefore) / 10;
    return `the sync would remove ${removed} of ${activeBefore} active instruments (${percent} %, more than the ${maxRemovalPercent} % allowed by RESTRICTED_LIST_MAX_REMOVAL_PERCENT)`;
  }
  return null;
}
