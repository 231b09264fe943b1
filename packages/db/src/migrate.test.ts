import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadMigrations, splitStatements } from './migrate.ts';

describe('splitStatements', () => {
  it('splits at semicolons and drops line and block comments', () => {
    const sql = [
      '-- header; with a semicolon',
      'CREATE TABLE a (x int); -- trailing; comment',
      '/* block; /* nested; */ still comment; */ CREATE INDEX a_x ON a (x);',
      'SELECT 1; SELECT 2',
    ].join('\n');
    assert.deepEqual(splitStatements(sql), [
      'CREATE TABLE a (x int)',
      'CREATE INDEX a_x ON a (x)',
      'SELECT 1',
      'SELECT 2',
    ]);
  });

  it('keeps semicolons and comment markers inside literals and quoted identifiers', () => {
    const sql = `INSERT INTO t VALUES ('a;b', 'it''s; -- not a comment', E'x\\'; y', "odd;name");\nSELECT 2;`;
    assert.deepEqual(splitStatements(sql), [
      `INSERT INTO t VALUES ('a;b', 'it''s; -- not a comment', E'x\\'; y', "odd;name")`,
      'SELECT 2',
    ]);
  });

  it('keeps a PL/pgSQL body in dollar quotes in one statement', () => {
    const body = [
      'CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$',
      'BEGIN',
      "  RAISE EXCEPTION 'no; never';",
      '  RETURN NULL;',
      'END',
      '$$;',
    ].join('\n');
    const tagged = "CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $fn$ SELECT 'a;$$;b' $fn$;";
    const stmts = splitStatements(
      `${body}\nCREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION f();\n${tagged}`,
    );
    assert.equal(stmts.length, 3);
    assert.equal(stmts[0], body.slice(0, -1));
    assert.match(stmts[1], /^CREATE TRIGGER/);
    assert.equal(stmts[2], tagged.slice(0, -1));
  });

  it('does not take parameters or identifiers with $ for dollar quotes', () => {
    assert.deepEqual(splitStatements('SELECT $1, a$b$c FROM t; SELECT 2'), ['SELECT $1, a$b$c FROM t', 'SELECT 2']);
  });

  it('splits the shipped migrations into statements', async () => {
    for (const m of await loadMigrations()) {
      const stmts = splitStatements(m.sql);
      assert.ok(stmts.length > 0, m.name);
      for (const s of stmts) {
        assert.doesNotMatch(s, /^\s*--/, `${m.name}: a statement starts with a comment`);
      }
    }
  });
});
