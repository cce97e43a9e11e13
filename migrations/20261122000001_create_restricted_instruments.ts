import type { Knex } from 'knex';

/**
 * The cache the check endpoint reads, and the append-only log of every change applied to it.
 * Instruments are never deleted: one that leaves the page is kept with is_active = false.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('restricted_instruments', (t) => {
    t.bigIncrements('id');
    t.text('ticker');
    t.text('isin');
    t.text('name');
    t.text('restriction_type').notNullable();
    t.text('reason');
    t.date('effective_from');
    t.date('expires_at');
    t.boolean('is_active').notNullable();
    t.text('source_page_id');
    t.text('last_run_id').references('sync_runs.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticker']);
    t.index(['isin']);
  });
  await knex.raw(`
    ALTER TABLE restricted_instruments
      ADD CONSTRAINT restricted_instruments_type_check CHECK (restriction_type IN ('full','buy_only','sell_only')),
      ADD CONSTRAINT restricted_instruments_identity_check CHECK (ticker IS NOT NULL OR isin IS NOT NULL)`);

  await knex.schema.createTable('instrument_changes', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('change').notNullable(); // added | removed | modified
    t.bigInteger('instrument_id').notNullable().references('restricted_instruments.id');
    t.text('ticker');
    t.text('isin');
    t.jsonb('before');
    t.jsonb('after');
    t.text('page_id');
    t.integer('page_version');
    t.text('edited_by');
    t.text('run_id').notNullable().references('sync_runs.id');
    t.integer('list_version').notNullable();
    t.index(['at']);
    t.index(['instrument_id', 'at']);
  });
  await knex.raw(
    `ALTER TABLE instrument_changes ADD CONSTRAINT instrument_changes_change_check CHECK (change IN ('added','removed','modified'))`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('instrument_changes');
  await knex.schema.dropTable('restricted_instruments');
}
