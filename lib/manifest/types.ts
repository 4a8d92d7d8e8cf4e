// types.ts: the manifest's shape and limits, free of zod so the ELF loader can use them cheaply.

import { SN_MFT_MAX_ENTRIES, SN_MFT_NAME_SIZE } from '../abi.js';

/** Device kinds a manifest may declare (Solo5's published names). */
export type DeviceType = 'NET_BASIC' | 'BLOCK_BASIC';

export interface ManifestDevice {
  name: string;
  type: DeviceType;
}

/**
 * A validated Solo5 application manifest. The zod schema in schema.ts infers
 * exactly this type (a compile-time check there keeps the two in step); it is
 * spelled out here so that code reading manifests from ELF notes does not
 * have to load zod.
 */
export interface Manifest {
  type: 'solo5.manifest';
  version: 1;
  devices: ManifestDevice[];
}

/** Longest device name: the MFT1 name field is 68 bytes including the NUL. */
export const MAX_NAME_LENGTH = SN_MFT_NAME_SIZE - 1;
/** Devices a manifest may declare: MFT1 holds 64 entries, one of them reserved. */
export const MAX_DEVICES = SN_MFT_MAX_ENTRIES - 1;
/** Device names are 1..67 characters from [A-Za-z0-9]. */
export const DEVICE_NAME_RE = new RegExp(`^[A-Za-z0-9]{1,${MAX_NAME_LENGTH}}$`);

/** Message used by both the JSON schema and the MFT1 decoder when there are too many devices. */
export const TOO_MANY_MESSAGE = `too many entries, maximum ${MAX_DEVICES}`;

/** Finds the first repeated name, or undefined; index is that of the repeat. */
export function firstDuplicate(names: readonly string[]): { name: string; index: number } | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (seen.has(name)) return { name, index: i };
    seen.add(name);
  }
  return undefined;
}
