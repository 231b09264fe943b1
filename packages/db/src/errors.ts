/** SQLSTATE → meaning, mapped once. The store turns these into OperationOutcomes. */
export interface DbErrorInfo {
  kind: 'unique' | 'serialization' | 'timeout' | 'unavailable' | 'other';
  code?: string;
  constraint?: string;
}

export function classifyDbError(err: unknown): DbErrorInfo {
  const e = err as { code?: string; constraint?: string };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  switch (code) {
    case '23505':
      return { kind: 'unique', code, constraint: e.constraint };
    case '40001':
    case '40P01':
      return { kind: 'serialization', code };
    case '57014':
      return { kind: 'timeout', code };
    case '57P01':
    case '08006':
    case '08003':
      return { kind: 'unavailable', code };
    default:
      return { kind: 'other', code };
  }
}
