// switch.ts: a userspace Ethernet switch in the tender, joining unikernels and TypeScript endpoints.
import { EventEmitter } from 'node:events';
import { UsageError } from '../errors';
import { native } from '../native';
import { formatMac, parseMac, randomMac } from '../net/mac';

export const DEFAULT_SWITCH_MTU = 1500;
export const MAX_SWITCH_MTU = 9000;

/**
 * A learning switch serviced natively: frames between two unikernels never
 * enter JavaScript. Attach a guest with `net: { NAME: { switch: sw } }`, and
 * talk to the guests yourself through `sw.endpoint()`.
 */
export class VirtualSwitch {
  readonly mtu: number;
  /** Native switch id; used by the broker when a guest port is attached. */
  readonly id: number;
  private closed = false;
  private readonly endpoints = new Set<SwitchEndpoint>();

  constructor(opts: { mtu?: number } = {}) {
    const mtu = opts.mtu ?? DEFAULT_SWITCH_MTU;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > MAX_SWITCH_MTU) {
      throw new UsageError(`switch mtu: ${String(mtu)} must be an integer from 68 to ${MAX_SWITCH_MTU}`);
    }
    this.mtu = mtu;
    this.id = native().createSwitch({ mtu });
  }

  /** A TypeScript port on the switch; frames addressed to it arrive as 'frame' events. */
  endpoint(mac?: string | Buffer): SwitchEndpoint {
    if (this.closed) throw new UsageError('switch is closed');
    const m = mac === undefined ? randomMac() : typeof mac === 'string' ? parseMac(mac) : Buffer.from(mac);
    if (m.length !== 6) throw new UsageError('endpoint mac: must be 6 bytes');
    const ep = new SwitchEndpoint(this, m, () => this.endpoints.delete(ep));
    this.endpoints.add(ep);
    return ep;
  }

  /** Remove every endpoint and free the switch; guests attached to it must have ended. */
  close(): void {
    if (this.closed) return;
    for (const ep of [...this.endpoints]) ep.close();
    this.closed = true;
    native().destroySwitch(this.id);
  }
}

export interface SwitchEndpointEvents {
  frame: [frame: Buffer];
}

export class SwitchEndpoint extends EventEmitter<SwitchEndpointEvents> {
  readonly mac: Buffer;
  private readonly id: number;
  private open = true;

  constructor(
    private readonly sw: VirtualSwitch,
    mac: Buffer,
    private readonly onClose: () => void,
  ) {
    super();
    this.mac = mac;
    this.id = native().switchAddEndpoint(sw.id, mac, (frames: Buffer[]) => {
      for (const f of frames) this.emit('frame', f);
    });
  }

  get macString(): string {
    return formatMac(this.mac);
  }

  /** Send one Ethernet frame (14-byte header + payload, at most mtu + 14 bytes). */
  send(frame: Buffer): void {
    if (!this.open) throw new UsageError('endpoint is closed');
    if (frame.length < 14 || frame.length > this.sw.mtu + 14) {
      throw new UsageError(`frame of ${frame.length} bytes: must be 14 to ${this.sw.mtu + 14}`);
    }
    native().switchSend(this.sw.id, this.id, frame);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    native().switchRemoveEndpoint(this.sw.id, this.id);
    this.onClose();
    this.removeAllListeners();
  }
}
