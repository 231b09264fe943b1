export { emptyIndexRows, extractIndex, type IndexRows } from './indexing.ts';
export { searchRows, type SearchResult, type SearchRow } from './search.ts';
export { FhirStore, normalizeTs, type HistoryEntry, type StoredVersion, type StoreOptions, type Validator, type WriteResult } from './store.ts';
export { ChangeFeed, type ChangeEvent } from './changes.ts';
