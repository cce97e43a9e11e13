/** How a run held by the removal guard ended: an operator's decision, or nobody's. */
export const DECISION_OUTCOMES = ['approved', 'rejected', 'expired'] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

/** An operator's decision on a held run, as signalled (`by`: the admin token's name). */
export interface Decision {
  by: string;
}
