import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs; secrets are redacted by path in case a config object is ever logged whole. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'restricted-list-sync',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        '*.apiToken',
        '*.token',
        '*.readTokens',
        '*.adminTokens',
        'req.headers.authorization',
        'config.confluence.apiToken',
      ],
      censor: '[redacted]',
    },
  });
}
