import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultOrigins, originPatternError, originPolicy } from '../../daemon/config/origins.js';
import { loadSettings } from '../../daemon/config/settings.js';

const base = { host: '127.0.0.1', port: 7788, allowedHosts: [] as string[], allowedOrigins: [] as string[] };

describe('allowed origins', () => {
  it('matches origins against the defaults and wildcard entries', () => {
    const cases: [settings: Partial<typeof base>, origin: string, allowed: boolean][] = [
      // Loopback pages on any port, either scheme, any letter case.
      [{}, 'http://localhost:3000', true],
      [{}, 'http://localhost', true],
      [{}, 'https://localhost:8443', true],
      [{}, 'http://127.0.0.1:7788', true],
      [{}, 'http://[::1]:5173', true],
      [{}, 'HTTP://LOCALHOST:3000', true],
      // A page the user merely visits, and look-alikes of loopback.
      [{}, 'https://evil.example', false],
      [{}, 'http://localhost.evil.example', false],
      [{}, 'http://127.0.0.1.evil.example:80', false],
      [{}, 'http://evil.example/localhost:1', false],
      [{}, 'http://0.0.0.0:7788', false],
      // Sandboxed iframes and file:// pages: refused, even under `*`, unless listed.
      [{}, 'null', false],
      [{ allowedOrigins: ['*'] }, 'null', false],
      [{ allowedOrigins: ['null'] }, 'null', true],
      [{ allowedOrigins: ['*'] }, 'https://anything.example', true],
      // Wildcard subdomains and ports.
      [{ allowedOrigins: ['https://*.example.com'] }, 'https://app.example.com', true],
      [{ allowedOrigins: ['https://*.example.com'] }, 'https://a.b.example.com', true],
      [{ allowedOrigins: ['https://*.example.com'] }, 'http://app.example.com', false],
      [{ allowedOrigins: ['https://*.example.com'] }, 'https://example.com.evil.example', false],
      [{ allowedOrigins: ['https://*.example.com'] }, 'https://app.example.com:8443', false],
      [{ allowedOrigins: ['http://192.168.1.1:*'] }, 'http://192.168.1.1:8080', true],
      [{ allowedOrigins: ['http://192.168.1.1:*'] }, 'http://192.168.1.10:8080', false],
      [{ allowedOrigins: ['https://app.example.com'] }, 'https://app.example.com', true],
      [{ allowedOrigins: ['https://app.example.com'] }, 'https://app.example.com:444', false],
      [{ allowedOrigins: ['app://berth'] }, 'app://berth', true],
      // The daemon's own UI where it listens beyond loopback, and under its allowedHosts names.
      [{ host: '192.168.1.5', port: 7788 }, 'http://192.168.1.5:7788', true],
      [{ host: '192.168.1.5', port: 7788 }, 'http://192.168.1.5:7789', false],
      [{ host: '0.0.0.0', port: 7788, allowedHosts: ['berth.lan'] }, 'http://berth.lan:7788', true],
      [{ host: '0.0.0.0', port: 7788, allowedHosts: ['berth.lan'] }, 'http://0.0.0.0:7788', false],
    ];
    for (const [settings, origin, allowed] of cases) {
      const s = { ...base, ...settings };
      assert.equal(originPolicy(s)(origin), allowed, `${origin} with ${JSON.stringify(settings)}`);
    }
  });

  it('defaults to loopback pages and the daemon\'s own address', () => {
    assert.deepEqual(defaultOrigins({ host: '10.0.0.2', port: 7788, allowedHosts: [] }), [
      'http://localhost:*',
      'https://localhost:*',
      'http://127.0.0.1:*',
      'https://127.0.0.1:*',
      'http://[::1]:*',
      'https://[::1]:*',
      'http://10.0.0.2:7788',
    ]);
  });

  it('accepts origins with wildcards and refuses what is not an origin', () => {
    for (const ok of ['*', 'null', 'http://localhost:*', 'https://*.example.com', 'http://[::1]:8080', 'tauri://localhost', 'http://a-b.example:1']) {
      assert.equal(originPatternError(ok), null, ok);
    }
    for (const bad of ['', 'example.com', 'https://example.com/', 'https://example.com/app', 'http://user@host', 'http://host:port', 'http://host:123456', 'http:// host']) {
      assert.match(originPatternError(bad) ?? '', /is not an origin/, bad);
    }
  });

  it('reads BERTH_ORIGINS as a comma-separated list, naming the variable and the entry of a bad one', () => {
    const s = loadSettings({ env: { BERTH_HOME: '/nonexistent', BERTH_ORIGINS: ' https://*.example.com, http://192.168.1.1:* ,' } });
    assert.deepEqual(s.allowedOrigins, ['https://*.example.com', 'http://192.168.1.1:*']);
    assert.throws(
      () => loadSettings({ env: { BERTH_HOME: '/nonexistent', BERTH_ORIGINS: 'http://localhost:*,https://app.example.com/' } }),
      /^SettingsError: BERTH_ORIGINS: "https:\/\/app\.example\.com\/" is not an origin/,
    );
  });

  it('names the field and the entry of a bad allowedOrigins in settings', () => {
    assert.throws(
      () => loadSettings({ env: { BERTH_HOME: '/nonexistent' }, overrides: { allowedOrigins: ['http://ok.example', 'evil'] } }),
      /^SettingsError: allowedOrigins\.1: "evil" is not an origin/,
    );
  });
});
