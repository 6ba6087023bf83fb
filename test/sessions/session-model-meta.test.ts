import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SESSION_INDEX_FILE } from '../../src/sessions/session-index.js';
import { useTempStores } from './fixtures/temp-stores.js';

const KEY = 'agent:main:pinned';
const { newDir, openStore } = useTempStores('pincer-session-model-');

describe('FileSessionStore.setModel', () => {
  it('stores the chosen model as a meta record, rebuilt from the file without the index, kept by reset', async () => {
    const dir = newDir();
    const store = await openStore(dir);
    assert.equal((await store.setModel(KEY, 'anthropic/model-b')).model, 'anthropic/model-b');
    await store.setLabel(KEY, 'kept apart');
    await store.close();
    await rm(join(dir, SESSION_INDEX_FILE), { force: true });

    const rebuilt = await openStore(dir);
    assert.equal(rebuilt.get(KEY)?.model, 'anthropic/model-b');
    assert.equal(rebuilt.get(KEY)?.label, 'kept apart');
    assert.equal(await rebuilt.reset(KEY), true);
    assert.equal(rebuilt.get(KEY)?.model, 'anthropic/model-b');
    await rebuilt.close();

    const afterReset = await openStore(dir);
    assert.equal(afterReset.get(KEY)?.model, 'anthropic/model-b');
    assert.equal((await afterReset.setModel(KEY, null)).model, undefined);
    await afterReset.close();
    await rm(join(dir, SESSION_INDEX_FILE), { force: true });
    assert.equal((await openStore(dir)).get(KEY)?.model, undefined);
  });
});
