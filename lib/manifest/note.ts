// note.ts: the binary MFT1 manifest (Solo5's struct mft, include/sn_abi.h): encode, and decode untrusted notes.
import { DeviceError, ManifestError } from '../errors.js';
import {
  isBlockSize,
  SN_BLOCK_SIZE_MAX,
  SN_BLOCK_SIZE_MIN,
  SN_MFT,
  SN_MFT_BLOCK_BASIC,
  SN_MFT_ENTRY,
  SN_MFT_NET_BASIC,
  SN_NOTE_MFT1_PAD,
  SN_MFT_DEV_BLOCK_BASIC as MFT_DEV_BLOCK_BASIC,
  SN_MFT_DEV_NET_BASIC as MFT_DEV_NET_BASIC,
  SN_MFT_MAX_ENTRIES as MFT_MAX_ENTRIES,
  SN_MFT_NAME_SIZE as MFT_NAME_SIZE,
  SN_MFT_RESERVED_FIRST as MFT_RESERVED_FIRST,
  SN_MFT_VERSION as MFT_VERSION,
  mftSize,
} from '../abi.js';
import { DEVICE_NAME_RE, MAX_NAME_LENGTH, TOO_MANY_MESSAGE, firstDuplicate, type DeviceType, type Manifest } from './types.js';
import { quote } from '../quote';

/* Offsets inside struct sn_mft / struct sn_mft_entry, from their one source (lib/abi.ts mirrors include/sn_abi.h). */
export const MFT_HEADER_SIZE = SN_MFT.size;
export const MFT_ENTRY_SIZE = SN_MFT_ENTRY.size;
const OFF_TYPE = SN_MFT_ENTRY.offsets.type;
const OFF_UNION = SN_MFT_ENTRY.offsets.u;
const UNION_SIZE = SN_MFT_ENTRY.offsets.b - SN_MFT_ENTRY.offsets.u;
const OFF_B = SN_MFT_ENTRY.offsets.b;
const B_SIZE = SN_MFT_ENTRY.offsets.attached - SN_MFT_ENTRY.offsets.b;
const OFF_ATTACHED = SN_MFT_ENTRY.offsets.attached;

const TYPE_CODES: Record<DeviceType, number> = {
  NET_BASIC: MFT_DEV_NET_BASIC,
  BLOCK_BASIC: MFT_DEV_BLOCK_BASIC,
};

/** Per-device data the tender fills in when it attaches a backend. */
export interface AttachInfo {
  net?: { mac: Buffer; mtu: number };
  block?: { capacity: bigint; blockSize: number };
  /** Solo5 ABI: the guest's host fd for the device. Ring ABI: absent (the copy says -1). */
  hostfd?: number;
}

/** Writes header and entries with every device unattached (unions zero, as Solo5's gen-manifest leaves them). */
function encodeBase(m: Manifest): Buffer {
  const entries = m.devices.length + 1;
  const buf = Buffer.alloc(mftSize(entries));
  buf.writeUInt32LE(MFT_VERSION, 0);
  buf.writeUInt32LE(entries, 4);
  for (let i = 0; i < entries; i++) {
    const off = MFT_HEADER_SIZE + i * MFT_ENTRY_SIZE;
    if (i === 0) {
      buf.writeUInt32LE(MFT_RESERVED_FIRST, off + OFF_TYPE);
    } else {
      const dev = m.devices[i - 1];
      buf.write(dev.name, off, MFT_NAME_SIZE - 1, 'latin1');
      buf.writeUInt32LE(TYPE_CODES[dev.type], off + OFF_TYPE);
    }
  }
  return buf;
}

/** The manifest (struct mft) exactly as the ELF note carries it after its padding. `m` must already be valid. */
export function encodeMftNote(m: Manifest): Buffer {
  return encodeBase(m);
}

/** The whole MFT1 note descriptor: Solo5's 4 padding bytes (to align the manifest to 8), then the manifest. */
export function encodeMftNoteDescriptor(m: Manifest): Buffer {
  return Buffer.concat([Buffer.alloc(SN_NOTE_MFT1_PAD), encodeBase(m)]);
}

/**
 * The manifest copy the tender writes into guest memory: devices named in
 * `attach` are marked attached with their MAC/MTU or capacity/block size.
 * Attach data that does not fit the declared device is a tender bug or a user
 * error caught too late, so it throws rather than writing a half-truth.
 */
export function encodeMftForGuest(m: Manifest, attach: ReadonlyMap<string, AttachInfo>): Buffer {
  const buf = encodeBase(m);
  const known = new Set(m.devices.map((d) => d.name));
  for (const name of attach.keys()) {
    if (!known.has(name)) throw new DeviceError(`device "${quote(name)}" is not declared in the manifest`);
  }
  m.devices.forEach((dev, i) => {
    const off = MFT_HEADER_SIZE + (i + 1) * MFT_ENTRY_SIZE;
    const info = attach.get(dev.name);
    if (!info) {
      buf.writeInt32LE(-1, off + OFF_B);
      return;
    }
    const hostfd = info.hostfd ?? -1;
    if (!Number.isInteger(hostfd) || hostfd < -1 || hostfd > 0x7fffffff)
      throw new DeviceError(`device "${quote(dev.name)}": host fd ${hostfd} out of range`);
    buf.writeInt32LE(hostfd, off + OFF_B);
    if (dev.type === 'NET_BASIC') {
      if (!info.net || info.block) throw new DeviceError(`device "${quote(dev.name)}" is NET_BASIC: expected net attach data only`);
      const { mac, mtu } = info.net;
      if (mac.length !== 6) throw new DeviceError(`device "${quote(dev.name)}": MAC must be 6 bytes, got ${mac.length}`);
      if (!Number.isInteger(mtu) || mtu < 1 || mtu > 0xffff)
        throw new DeviceError(`device "${quote(dev.name)}": MTU ${mtu} out of range 1..65535`);
      mac.copy(buf, off + OFF_UNION + SN_MFT_NET_BASIC.offsets.mac);
      buf.writeUInt16LE(mtu, off + OFF_UNION + SN_MFT_NET_BASIC.offsets.mtu);
    } else {
      if (!info.block || info.net) throw new DeviceError(`device "${quote(dev.name)}" is BLOCK_BASIC: expected block attach data only`);
      const { capacity, blockSize } = info.block;
      if (capacity < 0n || capacity > 0xffffffffffffffffn)
        throw new DeviceError(`device "${quote(dev.name)}": capacity ${capacity} out of range`);
      if (!isBlockSize(blockSize)) {
        throw new DeviceError(
          `device "${dev.name}": block size ${blockSize} must be a power of two from ${SN_BLOCK_SIZE_MIN} to ${SN_BLOCK_SIZE_MAX}`,
        );
      }
      buf.writeBigUInt64LE(capacity, off + OFF_UNION + SN_MFT_BLOCK_BASIC.offsets.capacity);
      buf.writeUInt16LE(blockSize, off + OFF_UNION + SN_MFT_BLOCK_BASIC.offsets.block_size);
    }
    buf.writeUInt8(1, off + OFF_ATTACHED);
  });
  return buf;
}

function allZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Decodes the manifest of an MFT1 note (the descriptor after its 4 padding
 * bytes). The bytes come from the ELF file and are UNTRUSTED: every field is
 * checked before it is believed, and the first fault found is reported with
 * the entry and field it concerns. Solo5's validator checks the header,
 * the reserved first entry, NUL-terminated names and `attached`; this one
 * also wants the per-device unions zero (Solo5's gen-manifest leaves them
 * so), known types, names of [A-Za-z0-9] and no duplicates, because every
 * one of those would otherwise surface later as a confusing device error.
 */
export function decodeMftNote(desc: Buffer, source: string): Manifest {
  const fail = (msg: string): never => {
    throw new ManifestError(source, `MFT1 note: ${msg}`);
  };
  if (desc.length < MFT_HEADER_SIZE) fail(`too short (${desc.length} bytes)`);
  const version = desc.readUInt32LE(0);
  if (version !== MFT_VERSION) fail(`version ${version}, expected ${MFT_VERSION}`);
  const entries = desc.readUInt32LE(4);
  if (entries < 1) fail('no entries (the reserved first entry is missing)');
  if (entries > MFT_MAX_ENTRIES) fail(`${entries - 1} devices: ${TOO_MANY_MESSAGE}`);
  const expected = mftSize(entries);
  if (desc.length !== expected) fail(`size ${desc.length} bytes, expected ${expected} for ${entries} entries`);

  const devices: Manifest['devices'] = [];
  for (let i = 0; i < entries; i++) {
    const off = MFT_HEADER_SIZE + i * MFT_ENTRY_SIZE;
    const at = `entry ${i}`;
    const nul = desc.indexOf(0, off);
    if (nul < 0 || nul >= off + MFT_NAME_SIZE) fail(`${at}: name not NUL-terminated`);
    const name = desc.toString('latin1', off, nul);
    const type = desc.readUInt32LE(off + OFF_TYPE);
    if (desc[off + OFF_ATTACHED] !== 0) fail(`${at}: attached is set (must be 0 in the ELF)`);
    if (!allZero(desc, off + OFF_UNION, off + OFF_UNION + UNION_SIZE)) fail(`${at}: device data (u) is not zero`);
    if (!allZero(desc, off + OFF_B, off + OFF_B + B_SIZE)) fail(`${at}: host data (b) is not zero`);
    if (i === 0) {
      if (type !== MFT_RESERVED_FIRST) fail(`${at}: type 0x${type.toString(16)}, expected the reserved first entry 0x40000000`);
      if (name !== '') fail(`${at}: reserved first entry has a name`);
      continue;
    }
    if (!DEVICE_NAME_RE.test(name)) fail(`${at}: name ${JSON.stringify(name)} is not 1 to ${MAX_NAME_LENGTH} characters from [A-Za-z0-9]`);
    let devType: DeviceType;
    if (type === MFT_DEV_NET_BASIC) devType = 'NET_BASIC';
    else if (type === MFT_DEV_BLOCK_BASIC) devType = 'BLOCK_BASIC';
    else if (type === MFT_RESERVED_FIRST) return fail(`${at}: reserved entry type outside entry 0`);
    else return fail(`${at}: unknown device type 0x${type.toString(16)}`);
    devices.push({ name, type: devType });
  }
  const dup = firstDuplicate(devices.map((d) => d.name));
  if (dup) fail(`entry ${dup.index + 1}: duplicate name "${quote(dup.name)}"`);
  return { type: 'solo5.manifest', version: 1, devices };
}
