export * from './bhyt.ts';
export * from './cccd.ts';
export * from './cccd-qr.ts';
export * from './day.ts';
export * from './fold.ts';
export * from './identifiers.ts';
export * from './icd10-rules.ts';
export * from './terms.ts';
