/**
 * users.prefs.get / users.prefs.set (docs/protocol.md §3.9): the Control UI's
 * preferences, kept on disk for the one operator, with compare-and-set writes.
 */

import * as v from 'valibot';
import { GatewayError } from '../../../protocol/errors.js';
import type { MethodTable } from '../method-types.js';
import { MAX_PREF_KEY_CHARS, MAX_PREF_KEYS, type UserPrefs } from '../user-prefs.js';

const PrefKey = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PREF_KEY_CHARS));
const PrefEntries = v.pipe(
  v.custom<unknown>((value) => !Array.isArray(value), 'expected an object keyed by preference name'),
  v.record(PrefKey, v.unknown()),
  v.check((entries) => Object.keys(entries).length <= MAX_PREF_KEYS, `at most ${MAX_PREF_KEYS} keys`),
);
const GetParams = v.object({ keys: v.optional(v.pipe(v.array(PrefKey), v.maxLength(MAX_PREF_KEYS))) });
const SetParams = v.object({ entries: PrefEntries, expectedEntries: v.optional(PrefEntries) });

/** Build users.prefs.get and users.prefs.set over one store. */
export function createUserPrefsMethods(prefs: UserPrefs): MethodTable {
  return {
    'users.prefs.get': {
      params: GetParams,
      scope: 'operator.read',
      async handler(params) {
        return { status: 'ok', entries: await prefs.get(params.keys) };
      },
    },
    'users.prefs.set': {
      params: SetParams,
      scope: 'operator.write',
      async handler(params) {
        try {
          return await prefs.set(params.entries, params.expectedEntries);
        } catch (error) {
          if (error instanceof RangeError) throw new GatewayError('INVALID_REQUEST', `invalid users.prefs.set params: at /entries: ${error.message}`);
          throw error;
        }
      },
    },
  };
}
