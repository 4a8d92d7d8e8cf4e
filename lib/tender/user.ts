// user.ts: which uid and gid the guest process drops to when the tender runs as root.
import fs from 'node:fs';
import { UsageError } from '../errors';
import { quote } from '../quote';

/** The ids the helper switches to before the guest runs (SN_PLAN_F_SETID). */
export interface GuestIds {
  uid: number;
  gid: number;
}

/** Upstream's hvt tender drops to this account too; it owns no files a guest could want. */
export const DEFAULT_GUEST_USER = 'nobody';

const ID_RE = /^[0-9]{1,10}$/;
const MAX_ID = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel

function checkId(what: string, text: string): number {
  const n = Number(text);
  if (!ID_RE.test(text) || n > MAX_ID) throw new UsageError(`user: ${what} '${quote(text)}' is not a number from 0 to ${MAX_ID}`);
  return n;
}

/** Look a name up in a passwd(5) text; returns undefined when absent. */
export function lookupPasswd(text: string, name: string): GuestIds | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[0] === name && ID_RE.test(f[2]) && ID_RE.test(f[3])) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/**
 * Resolve `NAME`, `UID` or `UID:GID`. A bare number keeps that number as the
 * gid too, as nothing says which group it would have. Names come from
 * /etc/passwd only: the tender links no NSS, and a guest account served by a
 * directory service would have to be given by number.
 */
export function resolveGuestUser(spec: string, passwdPath = '/etc/passwd'): GuestIds {
  if (typeof spec !== 'string' || spec === '') throw new UsageError('user: a user name or UID[:GID] is required');
  const ids = /^([^:]+):([^:]+)$/.exec(spec);
  if (ids) return { uid: checkId('uid', ids[1]), gid: checkId('gid', ids[2]) };
  if (/^[0-9]+$/.test(spec)) {
    const id = checkId('uid', spec);
    return { uid: id, gid: id };
  }
  let text: string;
  try {
    text = fs.readFileSync(passwdPath, 'utf8');
  } catch (e) {
    throw new UsageError(
      `user: cannot read ${passwdPath} to look up '${spec}' (${(e as NodeJS.ErrnoException).code ?? String(e)}); give UID:GID`,
    );
  }
  const found = lookupPasswd(text, spec);
  if (found === undefined) throw new UsageError(`user: no user '${quote(spec)}' in ${passwdPath}; give UID:GID`);
  return found;
}

/**
 * The ids to drop to, or undefined to leave the guest's ids alone. Only root
 * can change them; as anyone else the guest already runs as that user, and
 * asking for another one is refused rather than ignored.
 */
export function guestIds(user: string | undefined, euid: number): GuestIds | undefined {
  if (euid !== 0) {
    if (user !== undefined) throw new UsageError(`user: running the guest as '${quote(user)}' needs a tender running as root`);
    return undefined;
  }
  return resolveGuestUser(user ?? DEFAULT_GUEST_USER);
}
