import type { Knex } from 'knex';

/** One row per sync run (keyed by the Temporal run id), plus the run's claim-check data. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sync_runs', (t) => {
    t.text('id').primary(); // Temporal run id
    t.text('workflow_id').notNullable();
    t.text('trigger').notNullable();
    t.text('status').notNullable(); // running | succeeded | failed
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.integer('added');
    t.integer('removed');
    t.integer('modified');
    t.integer('unchanged');
    t.integer('instrument_count');
    t.integer('list_version'); // the list state in force after this run (succeeded runs)
    t.jsonb('pages').notNullable().defaultTo('[]'); // [{id,title,version,url}]
    t.jsonb('warnings').notNullable().defaultTo('[]');
    t.text('error_code');
    t.text('error');
    t.index(['status', 'finished_at']);
    t.index(['started_at']);
  });
  await knex.raw(
    `ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_status_check CHECK (status IN ('running','succeeded','failed'))`,
  );

  // Page bodies and intermediate results stay in Postgres so Temporal payloads carry only ids.
  await knex.schema.createTable('sync_run_pages', (t) => {
    t.text('run_id').notNullable().references('sync_runs.id').onDelete('CASCADE');
    t.text('page_id').notNullable();
    t.text('title').notNullable();
    t.integer('version').notNullable();
    t.text('url');
    t.text('edited_by');
    t.timestamp('edited_at', { useTz: true });
    t.text('format').notNullable(); // storage | mock-json
    t.text('body').notNullable();
    t.primary(['run_id', 'page_id']);
  });
  await knex.schema.createTable('sync_run_artifacts', (t) => {
    t.text('run_id').notNullable().references('sync_runs.id').onDelete('CASCADE');
    t.text('kind').notNullable(); // parsed | diff
    t.jsonb('payload').notNullable();
    t.primary(['run_id', 'kind']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sync_run_artifacts');
  await knex.schema.dropTable('sync_run_pages');
  await knex.schema.dropTable('sync_runs');
}
