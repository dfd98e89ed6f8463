/** Registers the embedded world's rule-based reflector (imported for its effect by the CLI and the worker). */
import { registerRuleReflector } from '../reflect/rule-registry';
import { worldRuleReflector } from './rule-reflector';

registerRuleReflector(worldRuleReflector);
