/** A tiny SQL fragment builder: collects bind parameters as $1, $2, … in order. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}
