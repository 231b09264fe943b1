import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foldCode, searchText, searchWords, typeaheadQuery } from './terms.ts';

describe('catalog search text', () => {
  it('cuts a Vietnamese name into folded words at punctuation', () => {
    assert.deepEqual(searchWords('Tăng huyết áp vô căn (nguyên phát)'), [
      'tang',
      'huyet',
      'ap',
      'vo',
      'can',
      'nguyen',
      'phat',
    ]);
    assert.deepEqual(searchWords('Bệnh trào ngược dạ dày - thực quản'), [
      'benh',
      'trao',
      'nguoc',
      'da',
      'day',
      'thuc',
      'quan',
    ]);
    assert.deepEqual(searchWords('  '), []);
  });

  it('folds codes so that the dot, case, dagger and asterisk do not matter', () => {
    assert.equal(foldCode('J06.9'), 'j069');
    assert.equal(foldCode('j069'), 'j069');
    assert.equal(foldCode('G63.2*'), 'g632');
    assert.equal(foldCode('99.1899.1001'), '9918991001');
  });

  it('stores every word once, each after a space, with the folded code first', () => {
    assert.equal(
      searchText('I10', ['Tăng huyết áp', 'Essential hypertension']),
      ' i10 tang huyet ap essential hypertension',
    );
  });

  it('parses a filter into a code prefix and the typed words, longest first', () => {
    assert.deepEqual(typeaheadQuery('Tăng HUYET áp'), { code: 'tanghuyetap', words: ['huyet', 'tang', 'ap'] });
    assert.deepEqual(typeaheadQuery('J06.'), { code: 'j06', words: ['j06'] });
    assert.deepEqual(typeaheadQuery('%%'), { code: '', words: [] });
  });
});
