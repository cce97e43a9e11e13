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

/**
 * The started event of each call of activity `type` (a retried call records only its last
 * attempt, with the worker that ran it and the attempt number).
 */
export async function activityStartsOf(
  handle: WorkflowHandle,
  type: string,
): Promise<temporal.api.history.v1.IActivityTaskStartedEventAttributes[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Set(
    events
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === type)
      .map((event) => String(event.eventId)),
  );
  return events.flatMap((event) => {
    const started = event.activityTaskStartedEventAttributes;
    return started && scheduled.has(String(started.scheduledEventId)) ? [started] : [];
  });
}
