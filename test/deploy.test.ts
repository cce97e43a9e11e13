import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../src/config.ts';
import { SEARCH_ATTRIBUTES } from '../src/temporal/contract.ts';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string | string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
}

/** docker-compose.yml cannot run here (no Docker engine): it is held to the code by reading it. */
describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;
  const envExample = read('.env.example');

  it('has the production shape: postgres, temporal with its UI, worker, api (and one-shot setup steps)', () => {
    expect(Object.keys(services).sort()).toEqual([
      'api',
      'migrate',
      'postgres',
      'temporal',
      'temporal-postgres',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    expect(services.temporal?.environment?.DB).toBe('postgres12');
  });

  it('starts things in order, waiting on health, schema and search attributes', () => {
    expect(services.migrate?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(services.worker?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(services.worker?.depends_on?.['temporal-setup']?.condition).toBe('service_completed_successfully');
    expect(services.api?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    expect(services.temporal?.depends_on?.['temporal-postgres']?.condition).toBe('service_healthy');
    for (const name of ['postgres', 'temporal-postgres', 'temporal', 'api'])
      expect(services[name]?.healthcheck?.test, name).toBeDefined();
    // Healthy means ready: the database answers and a list is loaded.
    expect(services.api?.healthcheck?.test.join(' ')).toContain('/readyz');
  });

  it('runs the commands the code has', () => {
    expect(services.worker?.command).toEqual(['node', 'src/main.ts', 'worker']);
    expect(services.api?.command).toEqual(['node', 'src/main.ts', 'api']);
    expect(services.migrate?.command).toEqual(['node', 'src/db/migrate-cli.ts']);
    expect(services.api?.ports).toEqual(['${PORT:-3000}:3000']);
  });

  it('gives the worker and the API every variable the config module reads', () => {
    for (const name of ['worker', 'api']) {
      const service = services[name]!;
      expect(service.env_file).toBe('.env');
      const provided = new Set([
        ...Object.keys(service.environment ?? {}),
        ...[...envExample.matchAll(/^#?\s*([A-Z_]+)=/gm)].map((m) => m[1]),
      ]);
      const missing = CONFIG_VARIABLES.filter(
        (variable) => !provided.has(variable) && variable !== 'MOCK_DATA_PATH',
      );
      expect(missing, `${name} lacks`).toEqual([]);
      expect(service.environment?.NODE_ENV).toBe('production');
      expect(service.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(service.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
  });

  it('registers every search attribute the workflow sets', () => {
    const command = JSON.stringify(services['temporal-setup']?.command);
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
      expect(command).toContain(`${name}:${type}`);
  });

  it('keeps secrets out: .env.example holds placeholders only', () => {
    expect(envExample).not.toMatch(/ATATT[0-9A-Za-z_=-]{20,}/);
    for (const line of envExample.split('\n').filter((l) => /TOKEN|PASSWORD/.test(l) && l.includes('='))) {
      expect(line).toMatch(/replace-with|^#/);
    }
  });
});
