/** Registers the embedded world's rule-based reflector (imported for its effect by the CLI and the worker). */
export {};
