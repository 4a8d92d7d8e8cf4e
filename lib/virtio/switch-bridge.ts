// switch-bridge.ts: a VirtualSwitch port for a QEMU guest: frames over a socketpair QEMU reads as `-netdev stream` (4-byte big-endian length, then the frame).
import fs from 'node:fs';
import net from 'node:net';
import type { VirtualSwitch } from '../devices/switch';
import { native } from '../native';

export interface SwitchBridge {
  /** The end QEMU inherits (close it in this process once QEMU has ended). */
  qemuFd: number;
  /** The guest's MAC, which the switch delivers to (QEMU's mac= for the virtio-net device). */
  mac: string;
  close(): void;
}

/**
 * Joins the switch as `mac` and relays frames between it and a socketpair.
 * A frame QEMU sends that the switch refuses (too long for its MTU, shorter
 * than a header) is dropped, as a real port would drop it; a length over
 * 64 KiB is a broken stream and ends the bridge.
 */
export function bridgeSwitch(sw: VirtualSwitch, mac?: string): SwitchBridge {
  const ep = sw.endpoint(mac);
  const [mine, qemuFd] = native().socketpairStream();
  const sock = new net.Socket({ fd: mine, readable: true, writable: true });
  let pending: Buffer = Buffer.alloc(0);
  ep.on('frame', (frame) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(frame.length);
    sock.write(Buffer.concat([len, frame]));
  });
  sock.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const n = pending.readUInt32BE(0);
      if (n > 65535) return void sock.destroy();
      if (pending.length < 4 + n) break;
      const frame = pending.subarray(4, 4 + n);
      pending = pending.subarray(4 + n);
      if (frame.length >= 14 && frame.length <= sw.mtu + 14) ep.send(Buffer.from(frame));
    }
  });
  // QEMU's end closing (it exited) or a write after that: the bridge is over, nothing to report.
  sock.on('error', () => {});
  let closed = false;
  return {
    qemuFd,
    mac: ep.macString,
    close() {
      if (closed) return;
      closed = true;
      ep.close();
      sock.destroy();
      fs.closeSync(qemuFd);
    },
  };
}
