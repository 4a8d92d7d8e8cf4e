// eslint.config.mjs: ESLint flat config: typescript-eslint's type-aware rules for the TypeScript, the JS recommended set for the CommonJS tools.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Every eslint-disable comment says why ("-- reason"); ESLint itself only reports the unused ones.
const disableNeedsReason = {
  meta: { type: 'suggestion', schema: [], messages: { why: 'eslint-disable without a reason: add " -- why it is safe here"' } },
  create(context) {
    return {
      Program() {
        for (const c of context.sourceCode.getAllComments()) {
          if (/^\s*eslint-disable/.test(c.value) && !/ -- \S/.test(c.value)) context.report({ loc: c.loc, messageId: 'why' });
        }
      },
    };
  },
};

const nodeCommonJsGlobals = { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' };

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'build/**',
      'build-sanitize/**',
      'node_modules/**',
      'guest/build/**',
      'addon/helper/build/**',
      'test/native/build/**',
      '.tap/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { local: { rules: { 'disable-needs-reason': disableNeedsReason } } },
    rules: {
      'local/disable-needs-reason': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // tap queues subtests itself and waits for each before the parent ends: t.test()'s promise is not lost.
        { allowForKnownSafePromises: [{ from: 'package', package: '@tapjs/core', name: 'PromiseWithSubtest' }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      eqeqeq: ['error', 'always'],
      // A timer handle assigned once, after the closure that clears it is made, stays a let.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // tap test callbacks are async by habit; one without an await is harmless, and tap treats both the same.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Plain CommonJS scripts run by npm and CI (no types to check): the JS recommended rules, strict equality.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs', globals: nodeCommonJsGlobals },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off', eqeqeq: ['error', 'always'] },
  },
  {
    files: ['eslint.config.mjs'],
    languageOptions: { sourceType: 'module' },
  },
);
