import type { Knex } from 'knex';

/** Each page's own instrument count (its checksum) and what the run read, kept with the run's warnings. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sync_runs', (t) => {
    t.jsonb('checksums').notNullable().defaultTo('[]');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sync_runs', (t) => {
    t.dropColumn('checksums');
  });
}
