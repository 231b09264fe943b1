export { type ChangeEvent, ChangeFeed } from './changes.ts';
export { emptyIndexRows, extractIndex, type IndexRows } from './indexing.ts';
export { type MaintenanceOptions, PlannerStatistics } from './maintenance.ts';
export { type SearchResult, type SearchRow, searchResources, searchRows, visibleOnly } from './search.ts';
export {
  type ConditionalGuard,
  FhirStore,
  type HistoryEntry,
  normalizeTs,
  type StoredVersion,
  type StoreOptions,
  type Validator,
  type WriteGuard,
  type WriteResult,
} from './store.ts';
export * from './audit/index.ts';
export { accessCondition, type AccessFilter, type AccessPolicy } from './access.ts';
