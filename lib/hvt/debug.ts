// debug.ts: what --dumpcore and --gdb add to a launch: the debug helper, its channel, the gdb listener, the core at the end.
import fs from 'node:fs';
import net from 'node:net';
import type { GuestExit } from '../tender/exit';
import { debugHelperPath, native } from '../native';
import { Channel, Op, readLeft, decodeRegs, SN_PLAN_F_DUMPCORE, SN_PLAN_F_GDB, type Regs } from './channel';
import { coreFile, writeCore } from './core';
import { listenForGdb } from './gdb';
import { compilePolicy } from '../seccomp/compile';
import type { HvtSolo5HelperPolicyOptions } from '../seccomp/hvt';
import { compileDebugHelperPolicy, debugSolo5HelperPolicy } from './policy';
import type { DebugOptions } from './options';

export interface DebugLaunch {
  /** The helper to run, when not the default one. */
  helper: string | undefined;
  /** Plan flags (include/sn_hvt_debug.h). */
  flags: number;
  /** Extra fds for the helper after the KVM device fd (hvt: the debug socket). */
  fds: number[];
  /** hvt: the debug helper's seccomp program (`solo5`: an upstream-ABI guest's device fds). */
  bpf(ndoorbells: number, solo5?: HvtSolo5HelperPolicyOptions): Buffer;
  /** The helper runs as `pid`; close what only it needed. */
  started(pid: number, kill: () => void): void;
  /** The guest ended: write the core if it aborted; close everything. */
  ended(exit: GuestExit): Promise<void>;
  /** Give everything back (the launch failed). */
  release(): void;
}

/** Undefined when no debug feature is asked for: the launch then runs the default helper, untouched. */
export function prepareDebug(
  opts: { target: string; kernel: string; memSize: number; debug: DebugOptions },
  memFd: number,
  abiKind: 'ring' | 'solo5',
): DebugLaunch | undefined {
  const d = opts.debug;
  if (d.dumpcore === undefined && d.gdb === undefined) return undefined;
  const hvt = opts.target === 'hvt';
  // A second open file of the guest memory: the launch closes its own once the helper has it.
  const coreFd = d.dumpcore !== undefined ? fs.openSync(`/proc/self/fd/${memFd}`, 'r') : -1;
  const [tenderEnd, helperEnd] = hvt ? native().socketpairStream() : [-1, -1];
  let flags = (d.dumpcore !== undefined && hvt ? SN_PLAN_F_DUMPCORE : 0) | (d.gdb ? SN_PLAN_F_GDB : 0);
  if (!hvt && d.gdb === undefined) flags = 0;
  let regsAtEnd: Regs | undefined;
  let channelDone: Promise<void> = Promise.resolve();
  let closeGdb = (): void => {};
  let pid = 0;
  // Every fd this owns, closed once whoever gets there first (started, ended, release).
  const open = new Set([coreFd, tenderEnd, helperEnd].filter((fd) => fd >= 0));
  const close = (fd: number): void => {
    if (open.delete(fd)) fs.closeSync(fd);
  };
  const release = (): void => {
    closeGdb();
    closeGdb = () => {};
    for (const fd of [...open]) close(fd);
  };
  return {
    helper: flags !== 0 ? debugHelperPath : undefined,
    flags,
    fds: hvt ? [helperEnd] : [],
    bpf: (ndoorbells, solo5) =>
      solo5 ? compilePolicy(debugSolo5HelperPolicy(solo5, ndoorbells, !!d.gdb)) : compileDebugHelperPolicy(ndoorbells, !!d.gdb),
    started(childPid, kill) {
      pid = childPid;
      close(helperEnd);
      if (hvt && d.gdb) {
        // The socket owns the fd from here: closing it is destroying the socket.
        open.delete(tenderEnd);
        const sock = new net.Socket({ fd: tenderEnd, readable: true, writable: false });
        const channel = new Channel(tenderEnd, sock);
        const g = listenForGdb(channel, {
          port: d.gdb.port,
          kernel: opts.kernel,
          kill,
          message: d.message,
          z0InDebugRegisters: abiKind === 'solo5',
        });
        closeGdb = () => {
          g.close();
          channel.close();
        };
        // The session's end, or the helper's if it died before the session saw one (killed at the entry, say).
        const gone = channel.gone.then((m) => (m ? decodeRegs(m.data) : undefined));
        channelDone = Promise.race([g.finished, gone]).then((r) => void (regsAtEnd = r));
      } else if (!hvt && d.gdb) {
        d.message(
          `solo5-spt: the guest (pid ${childPid}) is stopped before its first instruction; attach with: gdb ${opts.kernel} -p ${childPid}`,
        );
      }
    },
    async ended(exit) {
      await channelDone;
      if (hvt && !d.gdb && tenderEnd >= 0) {
        const m = readLeft(tenderEnd);
        if (m?.op === Op.EXITED) regsAtEnd = decodeRegs(m.data);
      }
      try {
        if (d.dumpcore !== undefined && exit.kind === 'exit' && exit.status === 255) {
          const file = coreFile(d.dumpcore, opts.target, pid);
          d.message(`dumpcore: dumping guest core to: ${file}`);
          const core = writeCore(file, pid, coreFd, opts.memSize, regsAtEnd);
          d.message(`dumpcore: dumped ${core.pages} pages of total ${core.totalPages} pages`);
        }
      } catch (e) {
        d.message(`dumpcore: ${(e as Error).message}`);
      } finally {
        release();
      }
    },
    release,
  };
}
