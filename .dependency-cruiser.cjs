/**
 * The project's import rules (run by `npm run lint:deps`, part of `npm test`):
 *   ui -> worker protocol -> pmd -> engine, and util below everything.
 * See docs/design.md ("Layers").
 */
const LAYERS_ABOVE_ENGINE = '^src/(pmd|store|storage|ui|worker|cli)/';
module.exports = {
  forbidden: [
    {
      name: 'engine-stays-below',
      comment: 'The engine knows nothing of the PMD loop, stores, the UI, the worker or the CLI.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: LAYERS_ABOVE_ENGINE },
    },
    {
      name: 'pmd-is-portable',
      comment: 'The PMD loop reaches the engine through its interface; it never imports onnxruntime, React, IndexedDB or the layers above it.',
      severity: 'error',
      from: { path: '^src/pmd/' },
      to: { path: ['^src/(store|storage|ui|worker|cli)/', '^node_modules/(onnxruntime-(node|web|common)|react|react-dom|idb|zustand)/', '^src/engine/runtime/(ort-web|node-backend)\\.ts$'] },
    },
    {
      name: 'pmd-node-builtins-only-in-node-sandbox',
      comment: 'src/pmd runs in the browser too: Node built-ins only in the Node sandbox host files.',
      severity: 'error',
      from: { path: '^src/pmd/', pathNot: '^src/pmd/sandbox/node-' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'ui-through-the-protocol',
      comment: 'The UI talks to the engine and the loop only through the worker protocol (and its client).',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: ['^src/(engine|pmd|cli|store)/', '^src/worker/(?!protocol\\.ts$|client\\.ts$)', '^node_modules/onnxruntime-'] },
    },
    {
      name: 'worker-and-cli-are-entry-points',
      comment: 'Nothing below the entry points imports them, and they do not import each other or the UI.',
      severity: 'error',
      from: { path: '^src/(worker|cli)/' },
      to: { path: '^src/(ui|cli)/', pathNot: '^src/cli/' },
    },
    {
      name: 'cli-not-from-worker',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/(worker|ui)/' },
    },
    {
      name: 'stores-serve-entry-points',
      comment: 'Run stores (folder, IndexedDB) know the loop and the engine, never the UI, the worker or the CLI.',
      severity: 'error',
      from: { path: '^src/(store|storage)/' },
      to: { path: '^src/(ui|worker|cli)/' },
    },
    {
      name: 'util-imports-nothing-of-ours',
      comment: 'src/util holds dependency-free helpers every layer may use.',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^src/(?!util/)' },
    },
    {
      name: 'no-circular',
      comment: 'Modules of src/ do not import each other in a loop.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'product-not-from-tests',
      comment: 'src/ never imports tests, e2e harnesses, benchmarks or scripts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tests|e2e|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
