// manifest.test.ts: JSON manifest validation, the MFT1 codec and its untrusted-input rules, and the generated C note.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceError, ManifestError } from '../lib/errors.js';
import {
  decodeMftNote,
  encodeMftForGuest,
  encodeMftNote,
  manifestJsonSchema,
  manifestToCSource,
  parseManifestJson,
  encodeMftNoteDescriptor,
  type AttachInfo,
  type Manifest,
} from '../lib/manifest/index.js';
import { SCHEMA_FILE, manifestJsonSchemaText } from '../lib/manifest/export-schema.js';

const SRC = 'm.json';
const dev = (name: string, type = 'NET_BASIC') => ({ name, type });
const doc = (devices: unknown[], extra: object = {}) => JSON.stringify({ type: 'solo5.manifest', version: 1, devices, ...extra });
const manifest = (devices: Manifest['devices']): Manifest => ({ type: 'solo5.manifest', version: 1, devices });
const many = (n: number) => Array.from({ length: n }, (_, i) => dev(`d${i}`));

t.test('valid JSON manifests', async (t) => {
  const valid: [string, string][] = [
    ['no devices', doc([])],
    ['one net, one block', doc([dev('service'), dev('storage', 'BLOCK_BASIC')])],
    ['67-character name', doc([dev('a'.repeat(67))])],
    ['63 devices', doc(many(63))],
  ];
  for (const [name, text] of valid) t.same(parseManifestJson(text, SRC), JSON.parse(text), name);
});

t.test('invalid JSON manifests say which field', async (t) => {
  const invalid: [string, string, string][] = [
    ['not JSON', '{"type":', 'invalid JSON: '],
    ['not an object', '[]', '(root): Invalid input: expected object, received array'],
    ['wrong type', JSON.stringify({ type: 'x', version: 1, devices: [] }), 'type: Invalid input: expected "solo5.manifest"'],
    ['wrong version', JSON.stringify({ type: 'solo5.manifest', version: 2, devices: [] }), 'version: Invalid input: expected 1'],
    [
      'missing devices',
      JSON.stringify({ type: 'solo5.manifest', version: 1 }),
      'devices: Invalid input: expected array, received undefined',
    ],
    ['unknown top-level key', doc([], { colour: 'red' }), 'colour: unknown key'],
    ['two unknown keys', doc([], { a: 1, b: 2 }), 'a: unknown key (and b)'],
    ['unknown device key', doc([dev('a'), { name: 'b', type: 'NET_BASIC', mac: 'x' }]), 'devices[1].mac: unknown key'],
    [
      'unknown device type',
      doc([dev('a'), dev('b'), dev('c', 'NET_FANCY')]),
      'devices[2].type: Invalid option: expected one of "NET_BASIC"|"BLOCK_BASIC"',
    ],
    ['empty name', doc([dev('')]), 'devices[0].name: device name must be 1 to 67 characters from [A-Za-z0-9]'],
    ['68-character name', doc([dev('a'.repeat(68))]), 'devices[0].name: device name must be 1 to 67 characters from [A-Za-z0-9]'],
    ['name with a dash', doc([dev('net-0')]), 'devices[0].name: device name must be 1 to 67 characters from [A-Za-z0-9]'],
    ['name not a string', doc([{ name: 5, type: 'NET_BASIC' }]), 'devices[0].name: Invalid input: expected string, received number'],
    ['duplicate names', doc([dev('a'), dev('b'), dev('a', 'BLOCK_BASIC')]), 'devices[2].name: duplicate device name "a"'],
    ['64 devices', doc(many(64)), 'devices: too many entries, maximum 63'],
  ];
  for (const [name, text, message] of invalid) {
    t.throws(() => parseManifestJson(text, SRC), ManifestError, name);
    try {
      parseManifestJson(text, SRC);
    } catch (e) {
      const msg = (e as Error).message;
      t.ok(msg.startsWith(`${SRC}: ${message}`), `${name}: ${msg}`);
      t.notMatch(msg, /\n/, `${name}: one line`);
    }
  }
});

t.test('the committed JSON Schema is the generated one', async (t) => {
  const committed = readFileSync(join(__dirname, '..', '..', SCHEMA_FILE), 'utf8');
  t.equal(committed, manifestJsonSchemaText(), 'run: node dist/lib/manifest/export-schema.js . to refresh');
  const schema = manifestJsonSchema() as { properties: { devices: { maxItems: number } }; additionalProperties: boolean };
  t.equal(schema.properties.devices.maxItems, 63);
  t.equal(schema.additionalProperties, false);
});

const M2 = manifest([
  { name: 'service', type: 'NET_BASIC' },
  { name: 'storage', type: 'BLOCK_BASIC' },
]);

t.test("MFT1 encoding: Solo5's 104-byte entries, unions zero", async (t) => {
  const b = encodeMftNote(M2);
  t.equal(b.length, 8 + 104 * 3);
  t.equal(b.readUInt32LE(0), 1, 'version');
  t.equal(b.readUInt32LE(4), 3, 'entries');
  t.equal(b.readUInt32LE(8 + 68), 1 << 30, 'reserved first entry');
  t.equal(b.toString('latin1', 8 + 104, 8 + 104 + 8), 'service\0');
  t.equal(b.readUInt32LE(8 + 104 + 68), 2, 'net type');
  t.equal(b.readUInt32LE(8 + 208 + 68), 1, 'block type');
  for (let i = 0; i < 3; i++)
    t.ok(
      b.subarray(8 + 104 * i + 72, 8 + 104 * i + 104).every((x) => x === 0),
      `entry ${i}: u, b and attached are zero`,
    );
  const d = encodeMftNoteDescriptor(M2);
  t.equal(d.length, 4 + 8 + 104 * 3, 'the note descriptor counts 4 padding bytes (116 for one entry in Solo5)');
  t.same(d.subarray(0, 4), Buffer.alloc(4));
  t.same(d.subarray(4), b);
  t.equal(encodeMftNoteDescriptor(manifest([])).length, 116, "no devices: the reserved entry alone, 116 bytes as in Solo5's own binaries");
  for (const m of [
    manifest([]),
    M2,
    manifest(Array.from({ length: 63 }, (_, i) => ({ name: `n${'x'.repeat(i)}`, type: i % 2 ? 'NET_BASIC' : 'BLOCK_BASIC' }) as const)),
  ]) {
    t.same(decodeMftNote(encodeMftNote(m), 'note'), m, `${m.devices.length} devices`);
  }
});

t.test('MFT1 decoding refuses every broken rule (untrusted input)', async (t) => {
  const entry = (i: number) => 8 + 104 * i;
  const cases: [string, (b: Buffer) => Buffer, string][] = [
    ['too short', (b) => b.subarray(0, 4), 'too short (4 bytes)'],
    ['version', (b) => (b.writeUInt32LE(2, 0), b), 'version 2, expected 1'],
    ['zero entries', (b) => (b.writeUInt32LE(0, 4), b), 'no entries (the reserved first entry is missing)'],
    ['65 entries', (b) => (b.writeUInt32LE(65, 4), b), '64 devices: too many entries, maximum 63'],
    ['huge entry count', (b) => (b.writeUInt32LE(0xffffffff, 4), b), '4294967294 devices: too many entries, maximum 63'],
    ['size too small', (b) => b.subarray(0, b.length - 1), 'size 319 bytes, expected 320 for 3 entries'],
    ['size too large', (b) => Buffer.concat([b, Buffer.alloc(104)]), 'size 424 bytes, expected 320 for 3 entries'],
    [
      'reserved entry type',
      (b) => (b.writeUInt32LE(2, entry(0) + 68), b),
      'entry 0: type 0x2, expected the reserved first entry 0x40000000',
    ],
    ['reserved entry name', (b) => (b.write('x', entry(0)), b), 'entry 0: reserved first entry has a name'],
    ['name not terminated', (b) => (b.fill(0x41, entry(2), entry(2) + 68), b), 'entry 2: name not NUL-terminated'],
    ['empty name', (b) => (b.fill(0, entry(1), entry(1) + 68), b), 'entry 1: name "" is not 1 to 67 characters from [A-Za-z0-9]'],
    ['bad character', (b) => (b.write('-', entry(1)), b), 'entry 1: name "-ervice" is not 1 to 67 characters from [A-Za-z0-9]'],
    ['unknown type', (b) => (b.writeUInt32LE(7, entry(2) + 68), b), 'entry 2: unknown device type 0x7'],
    ['reserved type later', (b) => (b.writeUInt32LE(1 << 30, entry(1) + 68), b), 'entry 1: reserved entry type outside entry 0'],
    ['pre-attached', (b) => (b.writeUInt8(1, entry(1) + 96), b), 'entry 1: attached is set (must be 0 in the ELF)'],
    ['device data set', (b) => (b.writeUInt8(0xaa, entry(2) + 72 + 15), b), 'entry 2: device data (u) is not zero'],
    ['host fd set', (b) => (b.writeInt32LE(7, entry(1) + 88), b), 'entry 1: host data (b) is not zero'],
    ['host data high word set', (b) => (b.writeUInt8(1, entry(2) + 95), b), 'entry 2: host data (b) is not zero'],
    ['reserved entry attached', (b) => (b.writeUInt8(1, entry(0) + 96), b), 'entry 0: attached is set (must be 0 in the ELF)'],
    ['duplicate names', (b) => (b.write('service\0', entry(2)), b), 'entry 2: duplicate name "service"'],
  ];
  for (const [name, damage, message] of cases) {
    const buf = damage(encodeMftNote(M2));
    t.throws(() => decodeMftNote(buf, 'k.spt'), { name: 'ManifestError', message: `k.spt: MFT1 note: ${message}` }, name);
  }
  const b = encodeMftNote(M2);
  b.fill(0x5a, entry(1) + 97, entry(1) + 104);
  t.same(decodeMftNote(b, 'k.spt'), M2, 'the padding after attached is not part of the interface');
});

t.test('the guest copy carries attach data', async (t) => {
  const mac = Buffer.from([2, 0, 0, 0, 0, 1]);
  const attach = new Map<string, AttachInfo>([
    ['service', { net: { mac, mtu: 1500 } }],
    ['storage', { block: { capacity: 1n << 40n, blockSize: 4096 }, hostfd: 5 }],
  ]);
  const b = encodeMftForGuest(M2, attach);
  t.equal(b.length, encodeMftNote(M2).length);
  t.same(b.subarray(8 + 104 + 72, 8 + 104 + 78), mac);
  t.equal(b.readUInt16LE(8 + 104 + 78), 1500);
  t.equal(b.readInt32LE(8 + 104 + 88), -1, 'ring ABI: hostfd -1');
  t.equal(b[8 + 104 + 96], 1);
  t.equal(b.readBigUInt64LE(8 + 208 + 72), 1n << 40n);
  t.equal(b.readUInt16LE(8 + 208 + 80), 4096);
  t.equal(b.readInt32LE(8 + 208 + 88), 5, 'Solo5 ABI: the host fd');
  t.equal(b[8 + 208 + 96], 1);
  t.equal(b[8 + 96], 0, 'reserved entry never attached');
  t.equal(b.readInt32LE(8 + 88), 0, 'reserved entry has no host fd');
  const partial = encodeMftForGuest(M2, new Map([['storage', attach.get('storage') as AttachInfo]]));
  t.equal(partial[8 + 104 + 96], 0, 'unattached device stays unattached');
  t.throws(() => decodeMftNote(b, 'x'), ManifestError, 'an attached copy is never valid as a note');
  t.throws(() => encodeMftForGuest(M2, new Map([['storage', { block: { capacity: 512n, blockSize: 512 }, hostfd: -2 }]])), {
    message: 'device "storage": host fd -2 out of range',
  });

  const bad: [string, Map<string, AttachInfo>, string][] = [
    ['undeclared', new Map([['other', { net: { mac, mtu: 1500 } }]]), 'device "other" is not declared in the manifest'],
    [
      'net data for block',
      new Map([['storage', { net: { mac, mtu: 1500 } }]]),
      'device "storage" is BLOCK_BASIC: expected block attach data only',
    ],
    [
      'block data for net',
      new Map([['service', { block: { capacity: 512n, blockSize: 512 } }]]),
      'device "service" is NET_BASIC: expected net attach data only',
    ],
    ['short MAC', new Map([['service', { net: { mac: Buffer.alloc(5), mtu: 1500 } }]]), 'device "service": MAC must be 6 bytes, got 5'],
    ['MTU 0', new Map([['service', { net: { mac, mtu: 0 } }]]), 'device "service": MTU 0 out of range 1..65535'],
    [
      'block size 1000',
      new Map([['storage', { block: { capacity: 512n, blockSize: 1000 } }]]),
      'device "storage": block size 1000 must be a power of two from 512 to 32768',
    ],
    [
      'negative capacity',
      new Map([['storage', { block: { capacity: -1n, blockSize: 512 } }]]),
      'device "storage": capacity -1 out of range',
    ],
  ];
  for (const [name, map, message] of bad) t.throws(() => encodeMftForGuest(M2, map), new DeviceError(message), name);
});

function have(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const noToolchain = !(have('gcc') && have('objcopy')) && 'needs gcc and objcopy';

t.test('generated C compiles to exactly the expected note', { skip: noToolchain }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-mft-'));
  for (const m of [manifest([]), M2, manifest(Array.from({ length: 63 }, (_, i) => ({ name: `dev${i}`, type: 'BLOCK_BASIC' }) as const))]) {
    const c = join(dir, 'm.c');
    const o = join(dir, 'm.o');
    const bin = join(dir, 'note.bin');
    writeFileSync(c, manifestToCSource(m));
    execFileSync('gcc', ['-c', '-O2', '-Wall', '-Werror', '-ffreestanding', '-o', o, c]);
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.note.solo5.manifest', o, bin]);
    const desc = encodeMftNoteDescriptor(m);
    const header = Buffer.alloc(20);
    header.writeUInt32LE(6, 0);
    header.writeUInt32LE(desc.length, 4);
    header.writeUInt32LE(0x3154464d, 8);
    header.write('Solo5\0\0\0', 12, 'latin1');
    t.same(readFileSync(bin), Buffer.concat([header, desc]), `${m.devices.length} devices`);
    const sections = execFileSync('readelf', ['-SW', o], { encoding: 'utf8' });
    t.match(sections, /\.note\.solo5\.manifest\s+NOTE\s/, 'section type is SHT_NOTE');
    // [Nr] Name Type Address Off Size ES Flg Lk Inf Al
    const row = /\.note\.solo5\.manifest\s+NOTE\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s.*\s(\d+)\s*$/m.exec(sections);
    t.ok(row, 'readelf lists the section');
    t.equal(parseInt(row?.[2] ?? '', 10), 4, "the section is 4-byte aligned, as Solo5's");
    t.equal(parseInt(row?.[1] ?? '', 16), 20 + desc.length, 'the section holds the note and nothing else');
  }
});
