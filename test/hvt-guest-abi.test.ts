// hvt-guest-abi.test.ts: the Solo5-ABI hvt builds of the bundled apps run as expected under a stand-in for upstream's solo5-hvt and under solo5-hvt.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib';
import { kvmUnavailable } from './support/kvm';
import { root } from './support/paths';

const dir = mkdtempSync(join(tmpdir(), 'sn-hvt-guest-abi-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ABIS = ['solo5', 'solo5-v1'] as const;
const kernel = (abi: string, name: string): string => join(root, 'guest', 'build', abi, `${name}.hvt`);

const skip =
  kvmUnavailable() ??
  (spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'gcc is not installed' : undefined) ??
  (existsSync(kernel('solo5', 'hello')) ? undefined : 'the Solo5-ABI hvt guests are not built (npm run build:guest)');

/*
 * The stand-in for upstream's tender (test/hvt-abi-loader.c), built once:
 * upstream's machine set-up (its GDT and page tables without the user bit,
 * no EFER.SCE, its boot info) and hypercalls, as the facts sheet gives
 * them, so a guest that runs under it follows the ABI as published, not
 * merely as this project's tender implements it.
 */
let loader = '';
function buildLoader(): string {
  if (loader !== '') return loader;
  const out = join(dir, 'hvt-abi-loader');
  const r = spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-I', join(root, 'include'), '-o', out, join(root, 'test', 'hvt-abi-loader.c')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the loader failed: ${r.stderr}`);
  loader = out;
  return out;
}

const disk = join(dir, 'disk.img');
writeFileSync(disk, Buffer.alloc(64 * 1024));

interface Case {
  app: string;
  args: string[];
  status: number;
  markers: (string | RegExp)[];
  absent?: string[];
  block?: boolean;
}

const ok = (app: string, args: string[] = [], markers: string[] = [], block = false): Case => ({
  app,
  args,
  status: 0,
  markers: [...markers, 'SUCCESS'],
  absent: ['FAILURE'],
  block,
});
/* A CPU exception: upstream's trap lines, then ABORT and 255. */
const trap = (app: string, args: string[], type: string, extra: (string | RegExp)[] = []): Case => ({
  app,
  args,
  status: 255,
  markers: [
    new RegExp(
      `^Solo5: trap: type=${type} ec=0x[0-9a-f]+ rip=0x[0-9a-f]+ rsp=0x[0-9a-f]+ rflags=0x[0-9a-f]+( \\(system call \\d+\\))?$`,
      'm',
    ),
    ...extra,
    'Solo5: ABORT: Fatal trap',
  ],
  absent: ['SUCCESS', 'FAILURE'],
});

const MEM_MB = 8;
const cases: Case[] = [
  ok('hello', ['a', 'b'], ['Hello, World', "Command line is: 'a b'"]),
  { app: 'quiet', args: ['--solo5:quiet'], status: 0, markers: ['SUCCESS'], absent: ['Solo5:'] },
  ok('globals'),
  ok('bigwrite', [], ['line 000:', 'line 255:']),
  ok('tls'),
  // In ring 3 SSE runs natively, also on PVM hosts, where upstream's ring-0 fpu test fails.
  ok('fpu'),
  ok('time'),
  ok('blk', [], [], true),
  ok('acquire', [], [], true),
  { app: 'exitcode', args: ['300'], status: 44, markers: ['exiting with 300'] },
  { app: 'abort', args: [], status: 255, markers: ['Solo5: ABORT: solo5_abort() called'] },
  { app: 'ssp', args: [], status: 255, markers: ['Solo5: ABORT: stack smashing detected'] },
  trap('exception', [], '#GP'),
  trap('zeropage', [], '#PF', ['Solo5: trap: cr2=0x0\n']),
  // Above guest memory is unmapped in the guest's own page tables too: a fault the guest reports.
  trap('zeropage', ['above'], '#PF', [`Solo5: trap: cr2=0x${(MEM_MB << 20).toString(16)}\n`]),
  trap('notls', [], '#PF'),
  // The application's own system call: EFER.SCE is clear, as upstream leaves it (PVM hosts: s5h_start.S).
  trap('seccomp', [], '#UD', [/\(system call 2\)$/m]),
];

function check(tt: Test, c: Case, status: number | null, out: string): void {
  tt.equal(status, c.status, `exit status ${c.status}`);
  for (const m of c.markers) tt.match(out, m, `output has ${String(m)}`);
  for (const m of c.absent ?? []) tt.notMatch(out, m, `output lacks ${m}`);
}

for (const abi of ABIS) {
  for (const c of cases) {
    const name = `${abi}/${c.app}.hvt ${c.args.join(' ')}`.trim();
    t.test(`${name} under the stand-in for upstream's solo5-hvt`, { skip }, async (tt) => {
      const args = [`--mem=${MEM_MB}`, ...(c.block ? [`--block:storage=${disk}`] : []), kernel(abi, c.app), ...c.args];
      const r = spawnSync(buildLoader(), args, { encoding: 'utf8', timeout: 60_000 });
      check(tt, c, r.status, r.stdout);
      const line = /^LOADER cookie cr2=(0x[0-9a-f]+) ec=0x[0-9a-f]+ rip=(0x[0-9a-f]+) cs=(0x[0-9a-f]+) .* rsp=(0x[0-9a-f]+)/m.exec(
        r.stderr,
      );
      if (c.markers.some((m) => String(m).includes('trap: type'))) {
        // The HALT cookie is the trap frame, in upstream's order: the same rip and rsp as the trap line.
        const printed = /trap: type=\S+ ec=0x[0-9a-f]+ rip=(0x[0-9a-f]+) rsp=(0x[0-9a-f]+)/.exec(r.stdout);
        tt.ok(line, `a HALT cookie: ${r.stderr}`);
        tt.same([line?.[2], line?.[4]], [printed?.[1], printed?.[2]], 'the cookie has the rip and rsp of the trap');
        tt.equal(line?.[3], '0x33', 'cs: the application ran in ring 3');
      } else {
        tt.notOk(line, 'HALT without a cookie');
      }
    });
    t.test(`${name} under solo5-hvt, through the API`, { skip }, async (tt) => {
      const r = await run({
        kernel: kernel(abi, c.app),
        target: 'hvt',
        args: c.args,
        memMB: MEM_MB,
        block: c.block ? { storage: { path: disk } } : undefined,
        timeoutMs: 60_000,
      });
      tt.equal(r.timedOut, false, 'finishes on its own');
      check(tt, c, r.exit.status, r.output);
    });
  }

  t.test(`${abi}/hello.hvt on a tender with the 40-byte boot info (before 0.11)`, { skip }, async (tt) => {
    const r = spawnSync(buildLoader(), ['--mem=8', '--old', kernel(abi, 'hello'), 'x'], { encoding: 'utf8', timeout: 60_000 });
    tt.equal(r.status, 0, r.stderr);
    tt.match(r.stdout, "Command line is: 'x'");
    tt.notMatch(r.stdout, 'ring', 'no net ring taken from a manifest copy');
  });
}

t.test('maxdevices: 63 block devices under solo5-hvt', { skip }, async (tt) => {
  const block: Record<string, { path: string }> = {};
  for (let i = 0; i < 63; i++) {
    const img = join(dir, `max${i}.img`);
    writeFileSync(img, Buffer.alloc(512));
    block[`storage${i}`] = { path: img };
  }
  for (const abi of ABIS) {
    const r = await run({ kernel: kernel(abi, 'maxdevices'), target: 'hvt', memMB: MEM_MB, block, timeoutMs: 60_000 });
    tt.equal(r.exit.status, 0, `${abi}: ${r.output.slice(-300)}`);
    tt.match(r.output, 'SUCCESS');
  }
});

t.test("xnow: a store to text ends solo5-hvt with upstream's translation fault", { skip }, async (tt) => {
  const cli = join(root, 'dist', 'bin', 'solo5-hvt.js');
  for (const abi of ABIS) {
    const r = spawnSync(process.execPath, [cli, `--mem=${MEM_MB}`, kernel(abi, 'xnow')], { encoding: 'utf8', timeout: 60_000 });
    tt.equal(r.status, 1, `${abi}: exit 1`);
    tt.match(r.stderr, /^solo5-hvt: KVM: host\/guest translation fault: rip=0x[0-9a-f]+$/m, `${abi}: ${r.stderr}`);
    tt.notMatch(r.stdout, 'FAILURE', 'the store did not happen');
  }
});

t.test('hello runs in 2 MiB on both ABIs (no ring buffers in the image)', { skip }, async (tt) => {
  for (const abi of ABIS) {
    const r = spawnSync(buildLoader(), ['--mem=2', kernel(abi, 'hello')], { encoding: 'utf8', timeout: 60_000 });
    tt.equal(r.status, 0, `${abi}: ${r.stderr}`);
    tt.match(r.stdout, /memory map: 2 MB addressable/);
  }
});
