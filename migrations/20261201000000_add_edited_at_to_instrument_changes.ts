import type { Knex } from 'knex';

/**
 * When the Confluence version behind each change was saved, beside when it was applied: the
 * difference is the edit-to-enforcement lag Compliance is promised (and the watch exists for).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('instrument_changes', (t) => {
    t.timestamp('edited_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('instrument_changes', (t) => {
    t.dropColumn('edited_at');
  });
}
