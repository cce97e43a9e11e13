import { randomUUID } from 'node:crypto';
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { WORKFLOW_TYPE } from '../../src/temporal/contract.ts';
import { ensureSchedule } from '../../src/temporal/schedule.ts';

/** Schedules exist only on a real server (the time-skipping test server has none): the dev server. */
describe('ensureSchedule', () => {
  let connection: Connection;
  let client: Client;
  const scheduleId = `schedule-test-${randomUUID()}`;
  const configFor = (interval: string) =>
    loadConfig({
      USE_MOCK_DATA: 'true',
      RESTRICTED_LIST_SYNC_INTERVAL_MINUTES: interval,
      TEMPORAL_TASK_QUEUE: 'schedule-test',
    });

  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
  });
  afterAll(async () => {
    await client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => {});
    await connection.close();
  });

  it('creates the schedule with the interval, skip overlap policy and the sync workflow', async () => {
    expect(await ensureSchedule(client, configFor('60'), { scheduleId })).toBe('created');
    const description = await client.schedule.getHandle(scheduleId).describe();
    expect(description.spec.intervals?.map((interval) => interval.every)).toEqual([3_600_000]);
    expect(description.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(description.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      taskQueue: 'schedule-test',
    });
  });

  it('is safe to run again and applies a changed interval', async () => {
    expect(await ensureSchedule(client, configFor('15'), { scheduleId })).toBe('updated');
    const description = await client.schedule.getHandle(scheduleId).describe();
    expect(description.spec.intervals?.map((interval) => interval.every)).toEqual([900_000]);
    expect(description.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
  });
});
