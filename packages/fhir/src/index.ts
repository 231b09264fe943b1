export * from './dates.ts';
export * from './definitions.ts';
export * from './outcomes.ts';
export * from './references.ts';
export * from './search-params.ts';
export * from './search-request.ts';
export * from './summary.ts';
