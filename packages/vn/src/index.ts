export * from './bhyt.ts';
export * from './cccd.ts';
export * from './fold.ts';
export * from './identifiers.ts';
