#!/usr/bin/env node
// Peer driver: Node.js's tls module (OpenSSL inside Node), client and server.
// Speaks the JSON-lines protocol of interop/peerlib.py on stdin/stdout.
'use strict';

const tls = require('tls');
const fs = require('fs');
const readline = require('readline');

const VERSIONS = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };
const TLS13 = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:' +
              'TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256';
const CIPHERS = TLS13 + ':ALL:@SECLEVEL=0';
const GROUPS = ['x25519', 'secp256r1', 'x448', 'secp521r1', 'secp384r1',
                'ffdhe2048', 'ffdhe3072', 'ffdhe4096', 'ffdhe6144', 'ffdhe8192'];
const GROUP_NAMES = { X25519: 'x25519', X448: 'x448', prime256v1: 'secp256r1',
                      secp384r1: 'secp384r1', secp521r1: 'secp521r1' };

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }
function version(v) {
  return { TLSv1: '1.0', 'TLSv1.1': '1.1', 'TLSv1.2': '1.2', 'TLSv1.3': '1.3' }[v] || v;
}
function readFile(p) { return p ? fs.readFileSync(p) : undefined; }

function errorText(err) {
  if (!err) return 'unknown error';
  let text = err.reason || err.message || String(err);
  if (err.code && !text.includes(err.code)) text += ' (' + err.code + ')';
  return text;
}

function baseOptions(cfg) {
  return {
    minVersion: VERSIONS[cfg.min || '1.0'],
    maxVersion: VERSIONS[cfg.max || '1.3'],
    ciphers: CIPHERS,
    ecdhCurve: (cfg.groups && cfg.groups.length) ? cfg.groups.join(':') : GROUPS.join(':'),
  };
}

function describe(sock, res) {
  res.version = version(sock.getProtocol());
  const c = sock.getCipher();
  if (c) res.cipher = c.standardName || c.name;
  if (sock.alpnProtocol) res.alpn = sock.alpnProtocol;
  const cert = sock.getPeerCertificate();
  if (cert && cert.subject && cert.subject.OU) res.peer_cert = cert.subject.OU;
  res.resumed = sock.isSessionReused();
}

// Reads one line; calls done(line | null, err).
function readLine(sock, done) {
  let buf = '';
  let finished = false;
  const finish = (line, err) => { if (!finished) { finished = true; done(line, err); } };
  sock.on('data', (d) => {
    buf += d.toString('utf8');
    const i = buf.indexOf('\n');
    if (i >= 0) finish(buf.slice(0, i).replace(/\r$/, ''), null);
  });
  sock.on('error', (err) => finish(null, err));
  sock.on('end', () => finish(null, null));
  sock.on('close', () => finish(null, null));
}

const servers = new Map();

function startServer(id, cfg) {
  const opts = Object.assign(baseOptions(cfg), {
    key: readFile(cfg.key), cert: readFile(cfg.cert), dhparam: 'auto',
    // The client certificate is checked below, so that the reason is known
    // (with rejectUnauthorized Node drops the connection without saying why).
    requestCert: !!cfg.verify, rejectUnauthorized: false,
  });
  if (cfg.ca) opts.ca = readFile(cfg.ca);
  if (cfg.alpn) opts.ALPNProtocols = cfg.alpn;
  let sniCtx = null;
  if (cfg.sni_name) {
    sniCtx = tls.createSecureContext(Object.assign(baseOptions(cfg), {
      key: readFile(cfg.sni_key), cert: readFile(cfg.sni_cert) }));
  }
  opts.SNICallback = (name, cb) => { cb(null, (sniCtx && name === cfg.sni_name) ? sniCtx : null); };
  const server = tls.createServer(opts);
  server.on('secureConnection', (sock) => {
    const res = { status: 'fail' };
    try { describe(sock, res); } catch (e) { /* reported below */ }
    if (sock.servername) res.sni = sock.servername;
    if (cfg.verify && res.peer_cert && !sock.authorized) {
      res.stage = 'handshake';
      res.error = 'client certificate rejected: ' + sock.authorizationError;
      emit({ event: 'conn', id, result: res });
      sock.destroy();
      return;
    }
    if (cfg.verify && cfg.require_cert && !res.peer_cert) {
      res.stage = 'handshake';
      res.error = 'peer did not return a certificate (required)';
      emit({ event: 'conn', id, result: res });
      sock.destroy();
      return;
    }
    sock.setTimeout((cfg.timeout || 10) * 1000, () => sock.destroy(new Error('timed out')));
    readLine(sock, (line, err) => {
      if (line === null) {
        res.status = 'fail'; res.stage = 'receive';
        res.error = err ? errorText(err) : 'closed before a line';
        emit({ event: 'conn', id, result: res });
        sock.destroy();
        return;
      }
      sock.end(line.split('').reverse().join('') + '\n');
      res.status = 'ok';
      emit({ event: 'conn', id, result: res });
    });
  });
  server.on('tlsClientError', (err, sock) => {
    const res = { status: 'fail', stage: 'handshake', error: errorText(err) };
    if (sock && sock.servername) res.sni = sock.servername;
    emit({ event: 'conn', id, result: res });
  });
  server.on('error', (err) => emit({ event: 'server_error', id, error: errorText(err) }));
  server.listen(0, '127.0.0.1', () => {
    servers.set(id, server);
    emit({ event: 'listening', id, port: server.address().port });
  });
}

function connectOnce(cfg, session, done) {
  const opts = Object.assign(baseOptions(cfg), {
    host: cfg.host || '127.0.0.1', port: cfg.port,
    rejectUnauthorized: !!cfg.verify,
  });
  if (cfg.verify) {
    opts.ca = readFile(cfg.ca);
    const host = cfg.hostname || 'localhost';
    opts.checkServerIdentity = (_h, cert) => tls.checkServerIdentity(host, cert);
  }
  // Node sends SNI only for names, never for IP addresses.
  opts.servername = cfg.sni || '';
  if (!cfg.sni) delete opts.servername;
  if (cfg.cert) { opts.cert = readFile(cfg.cert); opts.key = readFile(cfg.key); }
  if (cfg.alpn) opts.ALPNProtocols = cfg.alpn;
  if (session) opts.session = session;
  const res = {};
  let finished = false;
  let ticket = null;
  const finish = () => { if (!finished) { finished = true; done(res, ticket); } };
  const sock = tls.connect(opts);
  sock.setTimeout((cfg.timeout || 10) * 1000, () => {
    res.status = 'fail'; res.stage = res.stage || 'timeout'; res.error = 'timed out';
    sock.destroy(); finish();
  });
  sock.on('session', (s) => { ticket = s; });
  sock.on('connect', () => { res.connected = true; });
  sock.once('error', (err) => {
    if (res.status) return;
    res.status = 'fail';
    res.stage = res.version ? 'io' : 'handshake';
    res.error = errorText(err);
    finish();
  });
  sock.on('secureConnect', () => {
    describe(sock, res);
    const key = sock.getEphemeralKeyInfo();
    if (key && key.name) res.group = GROUP_NAMES[key.name] || key.name;
    else if (key && key.type === 'DH' && key.size) res.group = 'ffdhe' + key.size;
    sock.write((cfg.send || 'ping') + '\n');
    readLine(sock, (line, err) => {
      if (res.status) return;
      if (line === null) {
        res.status = 'fail'; res.stage = 'receive';
        res.error = err ? errorText(err) : 'closed before a line';
      } else if (cfg.expect != null && line !== cfg.expect) {
        res.status = 'fail'; res.stage = 'receive'; res.error = 'unexpected reply ' + line;
      } else {
        res.status = 'ok';
      }
      // Wait a moment for a late TLS 1.3 ticket, then close.
      setTimeout(() => { sock.end(); finish(); }, cfg.resume && !ticket ? 50 : 0);
    });
  });
}

function runClient(id, cfg) {
  connectOnce(cfg, null, (res, ticket) => {
    if (!cfg.resume || res.status !== 'ok') { emit({ event: 'result', id, result: res }); return; }
    if (!ticket) {
      res.status = 'fail'; res.stage = 'resume'; res.error = 'no session to resume';
      emit({ event: 'result', id, result: res }); return;
    }
    connectOnce(cfg, ticket, (res2) => emit({ event: 'result', id, result: res2 }));
  });
}

// The TLS <= 1.2 suites this Node accepts: each candidate (OpenSSL names
// from the harness) is tried alone in a context; tls.getCiphers() lists only
// the default set.
function usable12(candidates) {
  const out = [];
  for (const name of candidates || []) {
    if (name.startsWith('TLS_')) continue;
    try {
      tls.createSecureContext({ ciphers: name + ':@SECLEVEL=0', minVersion: 'TLSv1', maxVersion: 'TLSv1.2' });
      out.push(name);
    } catch (e) { /* not available */ }
  }
  return out;
}

function hello(msg) {
  const names = (msg.candidates ? usable12(msg.candidates) : tls.getCiphers()).map((c) => c.toUpperCase());
  const c13 = tls.getCiphers().filter((n) => n.startsWith('tls_'));
  return {
    event: 'hello', name: 'node', version: 'Node.js ' + process.version +
      ' (OpenSSL ' + process.versions.openssl + ')',
    caps: {
      versions: ['1.0', '1.1', '1.2', '1.3'],
      ciphers12: names.filter((n) => !n.startsWith('TLS_')),
      ciphers13: c13.length ? TLS13.split(':') : [],
      groups: GROUPS,
      sigs: ['rsa', 'ecdsa', 'ed25519'],
      dhe_server: true,
      long_lines: true,
      server_close_notify: true,
      alpn_mismatch: 'alert',
      client_resume: true,
      server_reports: ['version', 'cipher', 'alpn', 'peer_cert', 'sni', 'resumed'],
      client_reports: ['version', 'cipher', 'alpn', 'group', 'peer_cert', 'resumed'],
      sni_switch: true,
    },
  };
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  line = line.trim();
  if (!line) return;
  let msg;
  try { msg = JSON.parse(line); } catch (e) { emit({ event: 'error', error: 'bad command' }); return; }
  try {
    switch (msg.cmd) {
      case 'hello': emit(hello(msg)); break;
      case 'server': startServer(msg.id, msg.config || {}); break;
      case 'stop': {
        const s = servers.get(msg.id);
        servers.delete(msg.id);
        if (s) s.close();
        emit({ event: 'stopped', id: msg.id });
        break;
      }
      case 'client': runClient(msg.id, msg.config || {}); break;
      case 'quit': process.exit(0); break;
      default: emit({ event: 'error', error: 'unknown command ' + msg.cmd });
    }
  } catch (e) {
    if (msg.cmd === 'server') emit({ event: 'server_error', id: msg.id, error: errorText(e) });
    else if (msg.cmd === 'client') {
      emit({ event: 'result', id: msg.id, result: { status: 'fail', stage: 'setup', error: errorText(e) } });
    } else emit({ event: 'error', error: errorText(e) });
  }
});
rl.on('close', () => process.exit(0));
