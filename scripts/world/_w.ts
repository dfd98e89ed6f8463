export { makeWorld } from '../../src/pmd/world/world';
export { generateSuite } from '../../src/pmd/world/suite';
