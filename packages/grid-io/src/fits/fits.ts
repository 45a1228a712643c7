// FITS container (the FITS Standard 4.0, Chen et al. 2016/2018): headers, HDUs, image arrays and binary-table columns; reading and writing.
//
// Small on purpose: what 1D spectra need (primary/IMAGE arrays of every BITPIX with BSCALE/BZERO/BLANK,
// BINTABLE numeric columns with TSCAL/TZERO/TNULL, long strings by CONTINUE, HIERARCH keywords). No
// maintained Node FITS library reads binary tables and writes files; this is checked against files
// written by astropy in the tests.

/** FITS logical records: every header and data unit is a whole number of 2880-byte blocks. */
export const FITS_BLOCK = 2880;
const CARD = 80;

/** A header keyword's value: string, number (integers and reals), logical, or undefined (no value). */
export type FitsValue = string | number | boolean | null;

/** One header card in file order. */
export interface FitsCard {
  key: string;
  value: FitsValue;
  comment?: string;
}

/** A parsed header: the cards in order, and keyword lookup (the first occurrence wins, as in astropy). */
export class FitsHeader {
  private readonly byKey = new Map<string, FitsValue>();
  constructor(readonly cards: readonly FitsCard[]) {
    for (const c of cards)
      if (c.key !== 'COMMENT' && c.key !== 'HISTORY' && c.key !== '' && !this.byKey.has(c.key))
        this.byKey.set(c.key, c.value);
  }
  has(key: string): boolean {
    return this.byKey.has(key.toUpperCase());
  }
  get(key: string): FitsValue | undefined {
    return this.byKey.get(key.toUpperCase());
  }
  /** A numeric keyword, `fallback` when absent; an error naming `where` when it is not a number. */
  number(key: string, where: string, fallback?: number): number {
    const v = this.get(key);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new Error(`${where}: keyword ${key} is missing`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new Error(`${where}: keyword ${key} = ${JSON.stringify(v)} is not a finite number`);
    return v;
  }
  /** A string keyword (trailing blanks removed, as the standard says they are not significant), or undefined. */
  string(key: string): string | undefined {
    const v = this.get(key);
    return typeof v === 'string' ? v : undefined;
  }
}

/** One header-data unit: its header, and where its data lie in the file. */
export interface FitsHdu {
  index: number;
  /** 'primary', or the XTENSION value ('IMAGE', 'BINTABLE', 'TABLE', ...). */
  kind: string;
  /** EXTNAME, when given. */
  name?: string;
  header: FitsHeader;
  /** Byte offset of the data in the file. */
  dataOffset: number;
  /** Data bytes (without the padding to a 2880-byte block). */
  dataBytes: number;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][+-]?\d+)?$/;

/** Parse a card's value field (after "= "): a quoted string, T/F, a number, or nothing; returns the value and the comment. */
function parseValue(
  field: string,
  where: string,
): { value: FitsValue; comment?: string; continued?: boolean } {
  const s = field.trimStart();
  if (s.startsWith("'")) {
    let i = 1;
    let out = '';
    for (;;) {
      if (i >= s.length) throw new Error(`${where}: string value has no closing quote`);
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i += 2;
          continue;
        }
        break;
      }
      out += s[i++];
    }
    const rest = s.slice(i + 1);
    const slash = rest.indexOf('/');
    const value = out.replace(/ +$/, '');
    return {
      value,
      comment: slash >= 0 ? rest.slice(slash + 1).trim() : undefined,
      continued: value.endsWith('&'),
    };
  }
  const slash = s.indexOf('/');
  const raw = (slash >= 0 ? s.slice(0, slash) : s).trim();
  const comment = slash >= 0 ? s.slice(slash + 1).trim() : undefined;
  if (raw === '') return { value: null, comment };
  if (raw === 'T') return { value: true, comment };
  if (raw === 'F') return { value: false, comment };
  if (NUMBER_RE.test(raw)) return { value: Number(raw.replace(/[dD]/, 'e')), comment };
  // Complex values "(re, im)" and anything else non-standard: kept as text, never used as a number.
  return { value: raw, comment };
}

/** Parse the header starting at `offset`; returns it and the offset just after its last block. */
function parseHeader(buf: Uint8Array, offset: number, where: string): { header: FitsHeader; end: number } {
  const cards: FitsCard[] = [];
  let pos = offset;
  let last: FitsCard | undefined;
  for (;;) {
    if (pos + CARD > buf.length)
      throw new Error(
        `${where}: header has no END card before the end of the file (truncated at byte ${buf.length})`,
      );
    const card = latin1(buf, pos, CARD);
    const cardNo = (pos - offset) / CARD + 1;
    pos += CARD;
    const key8 = card.slice(0, 8).trimEnd();
    if (key8 === 'END') break;
    const at = `${where} card ${cardNo}`;
    if (key8 === 'CONTINUE' && last && typeof last.value === 'string' && last.value.endsWith('&')) {
      const { value, comment } = parseValue(card.slice(8), at);
      last.value = last.value.slice(0, -1) + (typeof value === 'string' ? value : '');
      if (comment) last.comment = last.comment ? `${last.comment} ${comment}` : comment;
      continue;
    }
    if (key8 === 'HIERARCH') {
      const eq = card.indexOf('=');
      if (eq < 0) continue;
      const key = card.slice(9, eq).trim().toUpperCase();
      const { value, comment } = parseValue(card.slice(eq + 1), at);
      last = { key, value, comment };
      cards.push(last);
      continue;
    }
    if (card.slice(8, 10) === '= ') {
      const { value, comment } = parseValue(card.slice(10), at);
      last = { key: key8, value, comment };
    } else last = { key: key8, value: card.slice(8).trimEnd() || null };
    cards.push(last);
  }
  const blocks = Math.ceil((pos - offset) / FITS_BLOCK);
  return { header: new FitsHeader(cards), end: offset + blocks * FITS_BLOCK };
}

function latin1(buf: Uint8Array, start: number, n: number): string {
  let s = '';
  for (let i = start; i < start + n; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** True when the bytes start like a FITS file (`SIMPLE  =` in the first card). */
export function isFits(buf: Uint8Array): boolean {
  return buf.length >= 10 && latin1(buf, 0, 10) === 'SIMPLE  = ';
}

/** The axis lengths NAXIS1..NAXISn of an HDU. */
export function fitsAxes(h: FitsHeader, where: string): number[] {
  const n = h.number('NAXIS', where);
  if (!Number.isInteger(n) || n < 0 || n > 999)
    throw new Error(`${where}: NAXIS = ${n} is not an integer in 0..999`);
  const axes: number[] = [];
  for (let k = 1; k <= n; k++) {
    const a = h.number(`NAXIS${k}`, where);
    if (!Number.isInteger(a) || a < 0)
      throw new Error(`${where}: NAXIS${k} = ${a} is not a non-negative integer`);
    axes.push(a);
  }
  return axes;
}

/**
 * Split a FITS file into its HDUs (headers parsed, data located; nothing decoded). Errors name
 * the file, the HDU and the card; a file cut short says how many bytes the data need.
 */
export function parseFits(buf: Uint8Array, source: string): FitsHdu[] {
  if (!isFits(buf)) throw new Error(`${source}: not a FITS file (it does not start with a SIMPLE card)`);
  const hdus: FitsHdu[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const index = hdus.length;
    const where = `${source}: HDU ${index}`;
    // Anything after the last HDU that is not an XTENSION header (zero padding, "special records") is ignored, as astropy does.
    if (index > 0 && latin1(buf, offset, Math.min(8, buf.length - offset)) !== 'XTENSION') break;
    const { header, end } = parseHeader(buf, offset, where);
    const bitpix = header.number('BITPIX', where);
    if (![8, 16, 32, 64, -32, -64].includes(bitpix))
      throw new Error(`${where}: BITPIX = ${bitpix} is not one of 8, 16, 32, 64, -32, -64`);
    const axes = fitsAxes(header, where);
    const pcount = header.number('PCOUNT', where, 0);
    const gcount = header.number('GCOUNT', where, 1);
    const dataBytes =
      axes.length === 0 ? 0 : (Math.abs(bitpix) / 8) * gcount * (pcount + axes.reduce((a, b) => a * b, 1));
    if (end + dataBytes > buf.length)
      throw new Error(
        `${where}: truncated: its data need ${dataBytes} bytes from byte ${end}, the file ends at byte ${buf.length}`,
      );
    const kind = index === 0 ? 'primary' : (header.string('XTENSION') ?? 'unknown').trim().toUpperCase();
    const name = header.string('EXTNAME')?.trim();
    hdus.push({ index, kind, name: name || undefined, header, dataOffset: end, dataBytes });
    offset = end + Math.ceil(dataBytes / FITS_BLOCK) * FITS_BLOCK;
  }
  return hdus;
}

/** Read one big-endian value of a FITS integer or float type at `p`. */
function reader(view: DataView, code: string): (p: number) => number {
  switch (code) {
    case 'B':
      return (p) => view.getUint8(p);
    case 'I':
      return (p) => view.getInt16(p, false);
    case 'J':
      return (p) => view.getInt32(p, false);
    case 'K':
      return (p) => Number(view.getBigInt64(p, false));
    case 'E':
      return (p) => view.getFloat32(p, false);
    case 'D':
      return (p) => view.getFloat64(p, false);
    default:
      throw new Error(`unsupported type ${code}`);
  }
}

const BITPIX_CODE: Record<number, string> = { 8: 'B', 16: 'I', 32: 'J', 64: 'K', [-32]: 'E', [-64]: 'D' };

/**
 * The physical values of an image HDU's array, flattened in FITS order (NAXIS1 fastest):
 * BZERO + BSCALE · stored value; integer pixels equal to BLANK, and IEEE NaN, are NaN.
 */
export function readFitsImage(
  buf: Uint8Array,
  hdu: FitsHdu,
  source: string,
): { axes: number[]; values: Float64Array } {
  const where = `${source}: HDU ${hdu.index}`;
  const h = hdu.header;
  const bitpix = h.number('BITPIX', where);
  const axes = fitsAxes(h, where);
  const n = axes.length === 0 ? 0 : axes.reduce((a, b) => a * b, 1);
  const bscale = h.number('BSCALE', where, 1);
  const bzero = h.number('BZERO', where, 0);
  const blank = bitpix > 0 && h.has('BLANK') ? h.number('BLANK', where) : undefined;
  const view = new DataView(buf.buffer, buf.byteOffset + hdu.dataOffset, hdu.dataBytes);
  const get = reader(view, BITPIX_CODE[bitpix]);
  const size = Math.abs(bitpix) / 8;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const raw = get(i * size);
    out[i] = blank !== undefined && raw === blank ? Number.NaN : bzero + bscale * raw;
  }
  return { axes, values: out };
}

/** A numeric binary-table column. */
export interface FitsColumn {
  /** TTYPEn (as written). */
  name: string;
  /** TUNITn, when given. */
  unit?: string;
  /** Elements per row (the repeat count of TFORMn). */
  repeat: number;
  /** Physical values, row after row (TZERO + TSCAL · stored; TNULL and NaN → NaN). */
  values: Float64Array;
}

const TFORM_SIZE: Record<string, number> = {
  L: 1,
  X: 0,
  B: 1,
  I: 2,
  J: 4,
  K: 8,
  A: 1,
  E: 4,
  D: 8,
  C: 8,
  M: 16,
  P: 8,
  Q: 16,
};

/**
 * The columns of a BINTABLE HDU. Numeric columns (B, I, J, K, E, D) are decoded; the others
 * (strings, logicals, bits, complex, variable-length arrays) are listed with an empty `values`.
 */
export function readFitsTable(
  buf: Uint8Array,
  hdu: FitsHdu,
  source: string,
): { rows: number; columns: FitsColumn[] } {
  const where = `${source}: HDU ${hdu.index}`;
  if (hdu.kind !== 'BINTABLE') throw new Error(`${where}: is ${hdu.kind}, not a BINTABLE`);
  const h = hdu.header;
  const [rowBytes, rows] = fitsAxes(h, where);
  const nFields = h.number('TFIELDS', where);
  const view = new DataView(buf.buffer, buf.byteOffset + hdu.dataOffset, hdu.dataBytes);
  const columns: FitsColumn[] = [];
  let offset = 0;
  for (let k = 1; k <= nFields; k++) {
    const form = (h.string(`TFORM${k}`) ?? '').trim().toUpperCase();
    const m = /^(\d*)([LXBIJKAEDCMPQ])/.exec(form);
    if (!m) throw new Error(`${where}: TFORM${k} = '${form}' is not a binary-table format`);
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const code = m[2];
    const width = code === 'X' ? Math.ceil(repeat / 8) : TFORM_SIZE[code] * repeat;
    const name = (h.string(`TTYPE${k}`) ?? `col${k}`).trim();
    const unit = h.string(`TUNIT${k}`)?.trim() || undefined;
    let values = new Float64Array(0);
    if ('BIJKED'.includes(code)) {
      const get = reader(view, code);
      const size = TFORM_SIZE[code];
      const scale = h.number(`TSCAL${k}`, where, 1);
      const zero = h.number(`TZERO${k}`, where, 0);
      const tnull = 'BIJK'.includes(code) && h.has(`TNULL${k}`) ? h.number(`TNULL${k}`, where) : undefined;
      values = new Float64Array(rows * repeat);
      for (let r = 0; r < rows; r++)
        for (let e = 0; e < repeat; e++) {
          const raw = get(r * rowBytes + offset + e * size);
          values[r * repeat + e] = tnull !== undefined && raw === tnull ? Number.NaN : zero + scale * raw;
        }
    }
    columns.push({ name, unit, repeat, values });
    offset += width;
  }
  if (offset !== rowBytes)
    throw new Error(`${where}: the TFORMs add up to ${offset} bytes per row, NAXIS1 says ${rowBytes}`);
  return { rows, columns };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Format one header card (80 characters): fixed format for logicals and numbers, strings quoted. */
export function fitsCard(key: string, value: FitsValue | undefined, comment?: string): string {
  const k = key.toUpperCase();
  if (!/^[A-Z0-9_-]{1,8}$/.test(k))
    throw new Error(`FITS keyword '${key}' must be 1–8 of A–Z, 0–9, '_' and '-'`);
  let text: string;
  if (k === 'COMMENT' || k === 'HISTORY') text = k.padEnd(8) + String(value ?? '');
  else {
    let v: string;
    if (value === null || value === undefined) v = '';
    else if (typeof value === 'boolean') v = (value ? 'T' : 'F').padStart(20);
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`FITS keyword ${k}: ${value} is not a finite number`);
      v = (Number.isInteger(value) && Math.abs(value) < 1e15 ? String(value) : formatReal(value)).padStart(
        20,
      );
    } else v = `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
    text = `${k.padEnd(8)}= ${v}${comment ? ` / ${comment}` : ''}`;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e)
      throw new Error(`FITS card ${k}: only printable ASCII is allowed (character ${i + 1})`);
  }
  if (text.length > CARD) {
    if (
      typeof value === 'string' &&
      k !== 'COMMENT' &&
      k !== 'HISTORY' &&
      text.indexOf("'") + value.length + 2 > CARD
    )
      throw new Error(`FITS keyword ${k}: string value of ${value.length} characters does not fit one card`);
    text = text.slice(0, CARD); // only the comment is cut
  }
  return text.padEnd(CARD);
}

/** A real in the shortest form that reads back to the same double, at most 20 characters, always with a '.'. */
function formatReal(x: number): string {
  let s = String(x);
  if (s.length > 20 || /e/i.test(s)) s = x.toExponential();
  s = s.toUpperCase();
  if (!s.includes('.')) s = s.includes('E') ? s.replace('E', '.E') : `${s}.`;
  return s;
}

/** An HDU to write: its header cards (without the structural ones, which are derived) and data. */
export type FitsHduToWrite =
  | {
      kind: 'image';
      /** Axis lengths, NAXIS1 (fastest) first. */
      axes: number[];
      bitpix: -32 | -64;
      data: Float32Array | Float64Array;
      cards?: string[];
      name?: string;
    }
  | {
      kind: 'bintable';
      rows: number;
      columns: {
        name: string;
        unit?: string;
        format: 'D' | 'E' | 'J' | 'K';
        data: Float64Array | Float32Array | Int32Array | number[];
      }[];
      cards?: string[];
      name?: string;
    };

function padBlock(parts: Buffer[], fill: number): Buffer {
  const b = Buffer.concat(parts);
  const pad = (FITS_BLOCK - (b.length % FITS_BLOCK)) % FITS_BLOCK;
  return pad === 0 ? b : Buffer.concat([b, Buffer.alloc(pad, fill)]);
}

function headerBytes(cards: string[]): Buffer {
  return padBlock([Buffer.from([...cards, 'END'.padEnd(CARD)].join(''), 'latin1')], 0x20);
}

/**
 * Encode HDUs as a FITS file. The first must be an image (it becomes the primary HDU; an empty
 * primary is written first when the first HDU is a table). Big-endian, 2880-byte blocks.
 */
export function encodeFits(hdus: FitsHduToWrite[]): Buffer {
  const out: Buffer[] = [];
  const list =
    hdus[0]?.kind === 'image'
      ? hdus
      : [{ kind: 'image', axes: [], bitpix: -32, data: new Float32Array(0) } as FitsHduToWrite, ...hdus];
  list.forEach((hdu, i) => {
    const primary = i === 0;
    if (hdu.kind === 'image') {
      const n = hdu.axes.reduce((a, b) => a * b, hdu.axes.length ? 1 : 0);
      if (n !== hdu.data.length)
        throw new Error(
          `FITS image ${hdu.name ?? i}: axes ${hdu.axes.join('×')} hold ${n} values, data has ${hdu.data.length}`,
        );
      const cards = [
        primary
          ? fitsCard('SIMPLE', true, 'conforms to the FITS standard')
          : fitsCard('XTENSION', 'IMAGE', 'image extension'),
        fitsCard('BITPIX', hdu.bitpix, hdu.bitpix === -32 ? 'IEEE 32-bit float' : 'IEEE 64-bit float'),
        fitsCard('NAXIS', hdu.axes.length),
        ...hdu.axes.map((a, k) => fitsCard(`NAXIS${k + 1}`, a)),
        ...(primary ? [fitsCard('EXTEND', true)] : [fitsCard('PCOUNT', 0), fitsCard('GCOUNT', 1)]),
        ...(hdu.name ? [fitsCard('EXTNAME', hdu.name)] : []),
        ...(hdu.cards ?? []),
      ];
      const size = hdu.bitpix === -32 ? 4 : 8;
      const data = Buffer.alloc(n * size);
      for (let j = 0; j < n; j++) {
        if (size === 4) data.writeFloatBE(hdu.data[j], j * 4);
        else data.writeDoubleBE(hdu.data[j], j * 8);
      }
      out.push(headerBytes(cards), padBlock([data], 0));
    } else {
      if (primary) throw new Error('FITS: the primary HDU must be an image');
      const size: Record<string, number> = { D: 8, E: 4, J: 4, K: 8 };
      const rowBytes = hdu.columns.reduce((a, c) => a + size[c.format], 0);
      const cards = [
        fitsCard('XTENSION', 'BINTABLE', 'binary table extension'),
        fitsCard('BITPIX', 8),
        fitsCard('NAXIS', 2),
        fitsCard('NAXIS1', rowBytes, 'bytes per row'),
        fitsCard('NAXIS2', hdu.rows, 'rows'),
        fitsCard('PCOUNT', 0),
        fitsCard('GCOUNT', 1),
        fitsCard('TFIELDS', hdu.columns.length),
      ];
      hdu.columns.forEach((c, k) => {
        if (c.data.length !== hdu.rows)
          throw new Error(`FITS table column ${c.name}: ${c.data.length} values for ${hdu.rows} rows`);
        cards.push(fitsCard(`TTYPE${k + 1}`, c.name), fitsCard(`TFORM${k + 1}`, c.format));
        if (c.unit !== undefined) cards.push(fitsCard(`TUNIT${k + 1}`, c.unit));
      });
      if (hdu.name) cards.push(fitsCard('EXTNAME', hdu.name));
      cards.push(...(hdu.cards ?? []));
      const data = Buffer.alloc(rowBytes * hdu.rows);
      let p = 0;
      for (let r = 0; r < hdu.rows; r++)
        for (const c of hdu.columns) {
          const v = Number(c.data[r]);
          if (c.format === 'D') data.writeDoubleBE(v, p);
          else if (c.format === 'E') data.writeFloatBE(v, p);
          else if (c.format === 'J') data.writeInt32BE(v, p);
          else data.writeBigInt64BE(BigInt(v), p);
          p += size[c.format];
        }
      out.push(headerBytes(cards), padBlock([data], 0));
    }
  });
  return Buffer.concat(out);
}
