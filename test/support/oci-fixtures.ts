// oci-fixtures.ts: config.json fixtures for solo5-oci's classifier: a pause-like static ELF, a script, a unikernel.
import fs from 'node:fs';
import path from 'node:path';

/**
 * A minimal static x86-64 ELF whose only PT_NOTE (8-aligned, as in every
 * static glibc binary such as Kubernetes' pause) holds GNU's
 * .note.gnu.property: namesz 4, descsz 16, descriptor at note offset 16.
 */
export function gnuPropertyElf(): Buffer {
  const buf = Buffer.alloc(64 + 56 + 32);
  buf.writeUInt32LE(0x464c457f, 0);
  buf[4] = 2; // ELFCLASS64
  buf[5] = 1; // little-endian
  buf[6] = 1; // EV_CURRENT
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(62, 18); // EM_X86_64
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(0x401000n, 24); // e_entry
  buf.writeBigUInt64LE(64n, 32); // e_phoff
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(1, 56);
  const ph = 64;
  buf.writeUInt32LE(4, ph); // PT_NOTE
  buf.writeUInt32LE(4, ph + 4); // PF_R
  buf.writeBigUInt64LE(120n, ph + 8);
  buf.writeBigUInt64LE(0x400078n, ph + 16);
  buf.writeBigUInt64LE(32n, ph + 32);
  buf.writeBigUInt64LE(32n, ph + 40);
  buf.writeBigUInt64LE(8n, ph + 48);
  const n = 120;
  buf.writeUInt32LE(4, n); // namesz "GNU\0"
  buf.writeUInt32LE(16, n + 4); // descsz
  buf.writeUInt32LE(5, n + 8); // NT_GNU_PROPERTY_TYPE_0
  buf.write('GNU\0', n + 12, 'latin1');
  buf.writeUInt32LE(0xc0008002, n + 16); // GNU_PROPERTY_X86_ISA_1_NEEDED
  buf.writeUInt32LE(4, n + 20);
  buf.writeUInt32LE(1, n + 24); // x86-64-baseline
  return buf;
}

/** A bundle directory with `files` in its rootfs and `config` as config.json. */
export function fixtureBundle(base: string, name: string, files: Record<string, Buffer | string>, config: object): string {
  const dir = path.join(base, name);
  fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  for (const [f, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'rootfs', f), data, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: 'rootfs' }, ...config }));
  return dir;
}
