// Lint rules, and the layering rule that keeps the tree honest (docs/architecture.md):
// runtime/ is the engine and imports neither connectors/ nor app/; connectors import
// only runtime/api; app/ composes both.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const layer = (message, group) => ({ 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', '.data/**', '.tools/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['runtime/**/*.ts'], rules: layer('runtime/ is the engine: it never imports connectors/ or app/.', ['**/connectors/**', '**/app/**']) },
  {
    files: ['connectors/**/*.ts'],
    rules: layer('Connectors import only runtime/api (the plugin API), never the rest of the runtime or app/.', [
      '**/runtime/**',
      '!**/runtime/api',
      '!**/runtime/api/**',
      '**/app/**',
    ]),
  },
  // Tests read loosely typed JSON answers (REST replies, bench results) on purpose.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
