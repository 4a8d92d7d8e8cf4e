// isolation.test.ts: the guest process holds only its intended fds and none of the tender's memory.
import fs from 'node:fs';
import t from 'tap';
import { launch } from '../lib';
import { app } from './support/paths';

/** Read every readable mapping of a process and search it for a byte pattern. */
function memoryContains(pid: number, needle: Buffer): { found: boolean; scanned: number; maps: string[] } {
  const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
  const mem = fs.openSync(`/proc/${pid}/mem`, 'r');
  let scanned = 0;
  try {
    for (const line of maps) {
      const [range, perms] = line.split(/\s+/);
      if (!perms.startsWith('r') || line.includes('[vvar')) continue;
      const [lo, hi] = range.split('-').map((h) => BigInt(`0x${h}`));
      const chunk = Buffer.alloc(1 << 20);
      for (let at = lo; at < hi; at += BigInt(chunk.length)) {
        const want = Number(hi - at < BigInt(chunk.length) ? hi - at : BigInt(chunk.length));
        let n = 0;
        try {
          n = fs.readSync(mem, chunk, 0, want, at);
        } catch {
          break;
        }
        scanned += n;
        if (chunk.subarray(0, n).includes(needle)) return { found: true, scanned, maps };
      }
    }
  } finally {
    fs.closeSync(mem);
  }
  return { found: false, scanned, maps };
}

const skip = process.getuid?.() !== 0 ? "reading another process's memory needs root (ptrace access)" : false;

t.test('a sleeping guest: its fds, environment and memory', { skip }, async (tt) => {
  const secret = `s3cr3t-${process.pid}-${Date.now()}`;
  process.env.SOLO5_TEST_SECRET = secret;
  const heapCopy = Buffer.from(`heap-${secret}`); // lives in the tender's heap while the guest runs
  // Long enough to outlast the checks on a loaded machine; the finally block kills it.
  const guest = await launch({ kernel: app('sleep'), args: ['600000'], memMB: 64, console: 'pipe' });
  try {
    let out = '';
    // Wait until the guest is running its own code (it prints READY before sleeping), or has died.
    await new Promise<void>((resolve) => {
      guest.console?.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('READY')) resolve();
      });
      void guest.exited.then(() => resolve());
    });
    tt.match(out, 'READY', 'the guest is up');

    const fds = fs
      .readdirSync(`/proc/${guest.pid}/fd`)
      .map(Number)
      .sort((a, b) => a - b);
    // 0 is /dev/null and 2 the helper's diagnostics pipe, which the policy does not let the guest write.
    tt.same(fds, [0, 1, 2, 3], 'stdin, console, diagnostics and the wait fd; nothing else');
    const environ = fs
      .readFileSync(`/proc/${guest.pid}/environ`, 'utf8')
      .split('\0')
      .filter((e) => e !== '');
    // tap's processinfo plugin injects its own variables into every child it sees spawned.
    const foreign = environ.filter((e) => !/^(_TAPJS_[A-Z_]+|NODE_OPTIONS)=/.test(e));
    tt.same(foreign, [], 'no environment of the tender reaches the guest');
    tt.notOk(
      environ.some((e) => e.includes(secret)),
      'the secret is not in the guest environment',
    );
    const status = fs.readFileSync(`/proc/${guest.pid}/status`, 'utf8');
    tt.match(status, /^Seccomp:\s+2$/m, 'seccomp filter mode');
    tt.match(status, /^NoNewPrivs:\s+1$/m, 'no new privileges');

    const scan = memoryContains(guest.pid, Buffer.from(secret));
    tt.ok(scan.scanned > 0, `scanned ${scan.scanned} bytes of guest address space`);
    tt.equal(scan.found, false, 'the secret from the tender environment and heap is not in the guest');
    tt.notOk(
      scan.maps.some((m) => /node|libc|\.so/.test(m)),
      'no node or shared-library mappings',
    );
    tt.comment(`the tender held a ${heapCopy.length}-byte heap copy of the secret during the scan`);
  } finally {
    guest.kill();
    await guest.exited;
    delete process.env.SOLO5_TEST_SECRET;
  }
});
