/**
 * The bottom layer: the product's types and their `const` unions, each written once. No I/O and
 * no dependencies, so every other layer (the workflow sandbox included) may import it.
 */
export * from './change.ts';
export * from './decision.ts';
export * from './instrument.ts';
export * from './page.ts';
export * from './run.ts';
export * from './warning.ts';
