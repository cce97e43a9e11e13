import { defaultPayloadConverter, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

export interface SummaryEntry {
  kind: 'activity' | 'timer';
  /** The activity type; null for a timer. */
  type: string | null;
  summary: string;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function text(payload: temporal.api.common.v1.IPayload | null | undefined): string | null {
  return payload ? (defaultPayloadConverter.fromPayload(payload) as string) : null;
}

/** Every activity and timer summary the run's history carries (what the Temporal UI shows), in order. */
export async function summariesOf(handle: WorkflowHandle): Promise<SummaryEntry[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).flatMap((event: HistoryEvent): SummaryEntry[] => {
    const summary = text(event.userMetadata?.summary);
    if (summary === null) return [];
    if (event.activityTaskScheduledEventAttributes)
      return [
        {
          kind: 'activity',
          type: event.activityTaskScheduledEventAttributes.activityType?.name ?? null,
          summary,
        },
      ];
    if (event.timerStartedEventAttributes) return [{ kind: 'timer', type: null, summary }];
    return [];
  });
}

/** The run's static summary and details (the workflow's user metadata). */
export async function staticMetadataOf(
  handle: WorkflowHandle,
): Promise<{ summary: string | null; details: string | null }> {
  const { events } = await handle.fetchHistory();
  const started = events?.[0];
  return { summary: text(started?.userMetadata?.summary), details: text(started?.userMetadata?.details) };
}
