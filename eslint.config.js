import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'test/fixtures/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The workflow sandbox must stay deterministic: orchestration only, activities as types only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: 'no Node APIs in workflows' })),
          patterns: [
            { group: ['node:*'], message: 'no Node APIs in workflows' },
            {
              group: [
                'knex',
                'pg',
                'cheerio',
                'htmlparser2',
                'domhandler',
                'confluence.js',
                'express',
                'pino',
                '@temporalio/worker',
                '@temporalio/client',
                '@temporalio/activity',
                '**/src/db/**',
                '**/src/api/**',
                '**/src/confluence/**',
                '**/src/parser/**',
                '**/src/dev/**',
              ],
              message: 'workflows orchestrate; I/O belongs in activities',
            },
            {
              group: ['**/activities/**'],
              allowTypeImports: true,
              message: 'import activities as types only',
            },
          ],
        },
      ],
    },
  },
);
