import { nativeConnectionOptions, resolveTemporalConfig } from './config.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('worker connection config', () => {
  test('defaults to the local dev server; flags override TEMPORAL_* variables', () => {
    expect(resolveTemporalConfig({}, {})).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      localDevServer: true,
    });
    expect(resolveTemporalConfig({}, { STELLAR_EMU_TEMPORAL_PORT: '7300' }).address).toBe('127.0.0.1:7300');
    const env = { TEMPORAL_ADDRESS: 'env:7233', TEMPORAL_NAMESPACE: 'env-ns' };
    expect(resolveTemporalConfig({}, env)).toMatchObject({
      address: 'env:7233',
      namespace: 'env-ns',
      localDevServer: false,
    });
    expect(resolveTemporalConfig({ address: 'flag:7233', namespace: 'flag-ns' }, env)).toMatchObject({
      address: 'flag:7233',
      namespace: 'flag-ns',
    });
  });

  test('TLS from certificate paths or an API key; cert without key is an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tls-'));
    await writeFile(join(dir, 'c.pem'), 'CERT');
    await writeFile(join(dir, 'k.pem'), 'KEY');
    const cfg = resolveTemporalConfig(
      {},
      {
        TEMPORAL_ADDRESS: 'x:7233',
        TEMPORAL_TLS_CERT: join(dir, 'c.pem'),
        TEMPORAL_TLS_KEY: join(dir, 'k.pem'),
      },
    );
    const opts = nativeConnectionOptions(cfg);
    expect(
      Buffer.from((opts.tls as { clientCertPair: { crt: Uint8Array } }).clientCertPair.crt).toString(),
    ).toBe('CERT');
    expect(resolveTemporalConfig({ apiKey: 'k' }, {})).toMatchObject({ tls: {}, apiKey: 'k' });
    expect(() => resolveTemporalConfig({ tlsCert: 'c.pem' }, {})).toThrow(/go together/);
  });
});
