// dumpcore.test.ts: --dumpcore: the core's ELF layout read back, the files it writes on abort (hvt and spt), gdb on them, the DIR errors and the refusal.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { EHDR_SIZE, PHDR_SIZE, PT_LOAD, PT_NOTE } from '../lib/elf';
import { SN_PLAN_F_GDB } from '../lib/hvt/channel';
import { coreHeaders, PRSTATUS_REG_OFFSET, PRSTATUS_SIZE, USER_REGS } from '../lib/hvt/core';
import { checkDebugOptions } from '../lib/hvt/options';
import { encodePlan } from '../lib/tender/plan';
import { basePlan, cannotRun, runHelper } from './support/helper-run';
import { asm, DATA, HALT_AT, hvtSolo5Elf, removeHvtSolo5Elves, u64s } from './support/hvt-solo5';
import { gdbSkip } from './support/gdb';
import { kvmUnavailable } from './support/kvm';
import { sampleRegs } from './support/debug-regs';
import { app, root, sptCli } from './support/paths';

const hvtCli = path.join(root, 'dist', 'bin', 'solo5-hvt.js');
const MEM = 32 << 20;

interface Phdr {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

/** The ELF header and program headers of a core, as any ELF reader sees them. */
function readCore(b: Buffer): { type: number; machine: number; phdrs: Phdr[] } {
  const n = b.readUInt16LE(56);
  const phoff = Number(b.readBigUInt64LE(32));
  const phdrs = Array.from({ length: n }, (_, i) => {
    const o = phoff + i * PHDR_SIZE;
    return {
      type: b.readUInt32LE(o),
      offset: Number(b.readBigUInt64LE(o + 8)),
      vaddr: Number(b.readBigUInt64LE(o + 16)),
      filesz: Number(b.readBigUInt64LE(o + 32)),
      memsz: Number(b.readBigUInt64LE(o + 40)),
    };
  });
  return { type: b.readUInt16LE(16), machine: b.readUInt16LE(18), phdrs };
}

/** NT_PRSTATUS's rip (user_regs_struct order), from the note at `off`. */
function prstatusRip(b: Buffer, off: number): bigint {
  return b.readBigUInt64LE(off + 20 + PRSTATUS_REG_OFFSET + 8 * USER_REGS.indexOf('rip'));
}

t.test('core layout: ET_CORE, one NT_PRSTATUS note, one PT_LOAD over all of memory', async (t) => {
  const regs = { ...sampleRegs(), rip: 0x100123n };
  regs.gpr[7] = 0x1ffff00n; // rsp
  const { head, memOffset } = coreHeaders(regs, 4242, MEM);
  const c = readCore(head);
  t.equal(head.readUInt32BE(0), 0x7f454c46, 'ELF magic');
  t.equal(c.type, 4, 'ET_CORE');
  t.equal(c.machine, 62, 'EM_X86_64');
  t.same(
    c.phdrs.map((p) => p.type),
    [PT_NOTE, PT_LOAD],
  );
  const [note, load] = c.phdrs as [Phdr, Phdr];
  t.equal(note.offset, EHDR_SIZE + 2 * PHDR_SIZE, 'the note right after the headers');
  t.equal(head.readUInt32LE(note.offset), 5, 'namesz: "CORE\\0"');
  t.equal(head.readUInt32LE(note.offset + 4), PRSTATUS_SIZE, 'descsz: struct elf_prstatus');
  t.equal(head.readUInt32LE(note.offset + 8), 1, 'NT_PRSTATUS');
  t.equal(head.toString('latin1', note.offset + 12, note.offset + 16), 'CORE');
  t.equal(note.filesz, 20 + PRSTATUS_SIZE);
  t.equal(head.readInt32LE(note.offset + 20 + 32), 4242, 'pr_pid');
  t.equal(prstatusRip(head, note.offset), 0x100123n, 'rip in pr_reg');
  t.equal(head.readBigUInt64LE(note.offset + 20 + PRSTATUS_REG_OFFSET + 8 * USER_REGS.indexOf(7)), 0x1ffff00n, 'rsp in pr_reg');
  const reg = (i: number) => head.readBigUInt64LE(note.offset + 20 + PRSTATUS_REG_OFFSET + 8 * i);
  t.same([reg(0), reg(10), reg(14)], [0x10n * 0x1111n, 0x1111n, 6n * 0x1111n], 'r15 first, rax at 10, rdi at 14 (user_regs_struct)');
  t.same([load.offset, load.vaddr, load.filesz, load.memsz], [memOffset, 0, MEM, MEM], 'guest memory from address 0');
  t.equal(memOffset % 4096, 0, 'page aligned');
});

t.test('the core directory is checked before anything runs', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-core-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, '');
  t.throws(() => checkDebugOptions({ dumpcore: path.join(dir, 'nope') }), {
    message: `dumpcore: cannot open dir ${dir}/nope: No such file or directory`,
  });
  t.throws(() => checkDebugOptions({ dumpcore: file }), { message: `dumpcore: cannot open dir ${file}: Not a directory` });
  // /proc refuses new files even to root, whom access() would let through.
  t.throws(() => checkDebugOptions({ dumpcore: '/proc' }), { message: 'dumpcore: dir not writable: /proc' });
  t.same(fs.readdirSync(dir), ['f'], 'the writability probe leaves nothing behind');
  t.equal(checkDebugOptions({ dumpcore: dir }).dumpcore, dir);
  t.throws(() => checkDebugOptions({ gdb: { port: 70000 } }), { message: /gdb: must be true or \{ port \}/ });
});

t.test('CLI: DIR errors and bad debug options are one line and exit 1', async (t) => {
  const rows: [string, string[], RegExp][] = [
    [
      'hvt, no such dir',
      [hvtCli, '--dumpcore=/nonexistent/x', app('abort', 'hvt')],
      /^solo5-hvt: dumpcore: cannot open dir \/nonexistent\/x: No such file or directory\n$/,
    ],
    ['spt, not writable', [sptCli, '--dumpcore=/proc', app('abort')], /^solo5-spt: dumpcore: dir not writable: \/proc\n$/],
    ['no DIR', [hvtCli, '--dumpcore', app('abort', 'hvt')], /^solo5-hvt: --dumpcore: a directory is required/],
    ['bad port', [hvtCli, '--gdb-port=99999', app('hello', 'hvt')], /^solo5-hvt: --gdb-port: '99999' is not a TCP port/],
    ['spt has no stub port', [sptCli, '--gdb-port=1234', app('hello')], /^solo5-spt: --gdb-port: hvt only/],
  ];
  for (const [name, argv, err] of rows) {
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 60_000 });
    t.equal(r.status, 1, `${name}: exit 1`);
    t.match(r.stderr, err, `${name}: one line`);
    t.equal(r.stdout, '', `${name}: the guest never ran`);
  }
});

t.test('the default helper refuses a debug plan in one line', { skip: cannotRun() ?? false }, async (t) => {
  const r = await runHelper({ mem: [], plan: encodePlan(basePlan({ debugFlags: SN_PLAN_F_GDB })) });
  t.equal(r.code, 1);
  t.equal(r.stderr, 'solo5-helper: invalid plan: this helper has no debug features (--gdb and --dumpcore run solo5-helper-debug)\n');
});

/** Run KERNEL with --dumpcore into a fresh directory; the core's name, bytes and the CLI's output. */
function dumpcore(t: Test, cli: string, kernel: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-core-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, [cli, `--dumpcore=${dir}`, `--mem=${MEM >> 20}`, kernel], { encoding: 'utf8', timeout: 120_000 });
  const files = fs.readdirSync(dir);
  return { r, dir, files, file: files.length === 1 ? path.join(dir, files[0]) : '' };
}

t.test(
  'hvt: an aborting guest leaves core.solo5-hvt.PID that gdb opens with the unikernel',
  { skip: kvmUnavailable() ?? false },
  async (t) => {
    const { r, files, file } = dumpcore(t, hvtCli, app('abort', 'hvt'));
    t.equal(r.status, 255, "solo5_abort()'s status");
    t.equal(files.length, 1);
    t.match(file, /core\.solo5-hvt\.[0-9]*$/, "the name upstream's test looks for");
    t.match(r.stderr, `dumpcore: dumping guest core to: ${file}\n`);
    const pages = /dumpcore: dumped ([0-9]+) pages of total ([0-9]+) pages/.exec(r.stderr);
    t.ok(pages, 'the page count line');
    t.equal(Number(pages?.[2]), MEM / 4096, 'total: all of guest memory');
    t.ok(Number(pages?.[1]) > 0 && Number(pages?.[1]) < MEM / 4096 / 10, `untouched pages skipped (${pages?.[1]} written)`);
    const st = fs.statSync(file);
    t.equal(st.mode & 0o777, 0o600, 'mode 0600');
    t.ok(st.blocks * 512 < MEM / 4, `sparse on disk (${st.blocks * 512} bytes of ${st.size})`);
    const b = fs.readFileSync(file);
    const c = readCore(b);
    const load = c.phdrs.find((p) => p.type === PT_LOAD)!;
    t.equal(load.filesz, MEM, 'PT_LOAD spans guest memory');
    t.equal(b.length, load.offset + MEM, 'the file ends where guest memory does');
    const rip = prstatusRip(b, c.phdrs.find((p) => p.type === PT_NOTE)!.offset);
    t.ok(rip >= 0x100000n && rip < 0x200000n, `rip 0x${rip.toString(16)} is in the guest's text`);
    t.test('gdb: the stack of the abort', { skip: gdbSkip }, async (t) => {
      const out = execFileSync('gdb', ['-batch', '-nx', '-ex', 'bt', app('abort', 'hvt'), file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      t.match(out, /in solo5_abort \(\)/);
      t.match(out, /in solo5_app_main \(\)/);
    });
  },
);

t.test('hvt: a CPU exception: the core holds the registers of the faulting instruction', { skip: kvmUnavailable() ?? false }, async (t) => {
  const { r, file } = dumpcore(t, hvtCli, app('exception', 'hvt'));
  t.equal(r.status, 255);
  const at = /trap: .* at rip (0x[0-9a-f]+)/.exec(r.stdout);
  t.ok(at, 'the console names the faulting rip');
  const b = fs.readFileSync(file);
  const c = readCore(b);
  t.equal(
    prstatusRip(b, c.phdrs.find((p) => p.type === PT_NOTE)!.offset),
    BigInt(at?.[1] ?? 0),
    "the trap frame's rip, not the abort path's",
  );
});

t.test('spt: an aborting guest leaves core.solo5-spt.PID (memory; registers are not known)', async (t) => {
  const { r, files, file } = dumpcore(t, sptCli, app('abort'));
  t.equal(r.status, 255);
  t.equal(files.length, 1);
  t.match(file, /core\.solo5-spt\.[0-9]*$/);
  const c = readCore(fs.readFileSync(file));
  t.equal(c.phdrs.find((p) => p.type === PT_LOAD)?.filesz, MEM);
  t.test('gdb reads the guest memory in it', { skip: gdbSkip }, async (t) => {
    const x = (...core: string[]) =>
      execFileSync('gdb', ['-batch', '-nx', '-ex', 'x/8xb solo5_app_main', app('abort'), ...core], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .split('\n')
        .find((l) => l.includes('<solo5_app_main>'));
    t.match(x(file), /<solo5_app_main>:(\s+0x[0-9a-f]{2}){8}/, 'the text, read from the core');
    t.equal(x(file), x(), "the same bytes as the unikernel's file");
  });
});

t.test('a guest that exits normally leaves no core', { skip: kvmUnavailable() ?? false }, async (t) => {
  const { r, files } = dumpcore(t, hvtCli, app('hello', 'hvt'));
  t.equal(r.status, 0);
  t.same(files, []);
  t.notMatch(r.stderr, /dumpcore/);
});

t.test(
  "upstream-ABI hvt guest: HALT 255 with a cookie: the core's registers come from the guest's trap frame",
  { skip: kvmUnavailable() ?? false },
  async (t) => {
    t.teardown(removeHvtSolo5Elves);
    // cr2, error code, rip, cs, rflags, rsp, ss: what upstream's bindings pass for a CPU exception.
    const frame = u64s(0xdead, 2, 0x100004, 8, 0x202, 0x1ff000, 0x10);
    const kernel = hvtSolo5Elf({
      code: asm.movEax(DATA + 0x100) + asm.storeEax(HALT_AT) + asm.halt(),
      status: 255,
      data: [[0x100, frame]],
    });
    const { r, file } = dumpcore(t, hvtCli, kernel);
    t.equal(r.status, 255);
    t.match(file, /core\.solo5-hvt\.[0-9]*$/);
    const b = fs.readFileSync(file);
    const c = readCore(b);
    const note = c.phdrs.find((p) => p.type === PT_NOTE)!.offset + 20 + PRSTATUS_REG_OFFSET;
    const reg = (name: (typeof USER_REGS)[number]) => b.readBigUInt64LE(note + 8 * USER_REGS.indexOf(name));
    t.same(
      [reg('rip'), reg(7), reg('cs'), reg('rflags'), reg('ss')],
      [0x100004n, 0x1ff000n, 8n, 0x202n, 0x10n],
      'rip, rsp, cs, rflags, ss from the cookie',
    );
  },
);
