import type { Knex } from 'knex';

/** Runs held by the removal guard wait for an operator's decision, recorded with who made it. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_status_check');
  await knex.raw(
    `ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_status_check CHECK (status IN ('running','awaiting_approval','succeeded','failed'))`,
  );
  await knex.schema.alterTable('sync_runs', (t) => {
    t.text('requested_by');
    t.text('held_reason');
    t.text('decision'); // approved | rejected | expired
    t.text('decided_by');
    t.timestamp('decided_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sync_runs', (t) => {
    t.dropColumns('requested_by', 'held_reason', 'decision', 'decided_by', 'decided_at');
  });
  await knex.raw(`UPDATE sync_runs SET status = 'failed' WHERE status = 'awaiting_approval'`);
  await knex.raw('ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_status_check');
  await knex.raw(
    `ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_status_check CHECK (status IN ('running','succeeded','failed'))`,
  );
}
