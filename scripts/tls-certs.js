'use strict'
// Generates throwaway TLS material with the `openssl` command line, in a temp dir:
//   - a CA (ca.crt / ca.key),
//   - a server certificate for 127.0.0.1 and localhost (subjectAltName), signed by that CA, usable
//     both as server and as client certificate (Redis presents it on cluster-bus and replication
//     links when tls-cluster / tls-replication is on),
//   - a client certificate signed by that CA,
//   - a second, unrelated CA (other-ca.crt) with a server and a client certificate of its own.
//
//   const { generateCerts } = require('../scripts/tls-certs')
//   const certs = generateCerts()
//   certs.caFile, certs.serverCertFile, certs.serverKeyFile, certs.clientCertFile, certs.clientKeyFile,
//   certs.otherCaFile, certs.otherServerCertFile, certs.otherServerKeyFile, certs.otherClientCertFile, certs.otherClientKeyFile
//   certs.ca, certs.serverCert, certs.serverKey, certs.clientCert, certs.clientKey, certs.otherCa, … (PEM strings)
//   certs.cleanup()
//
// Keys are EC P-256 in PKCS#8 PEM; certificates are X.509 v3 with the extensions webpki/rustls
// insists on (CA:TRUE + keyCertSign on the CAs, CA:FALSE + SAN + extendedKeyUsage on leaves).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

function openssl(args, cwd) {
  try {
    return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr ? err.stderr.toString() : err.message}`)
  }
}

function makeKey(dir, name) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir)
}

function makeCa(dir, name, cn) {
  makeKey(dir, name)
  fs.writeFileSync(
    path.join(dir, `${name}.ext`),
    [
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ].join('\n') + '\n',
  )
  openssl(
    ['req', '-new', '-x509', '-key', `${name}.key`, '-sha256', '-days', '3650', '-subj', `/O=connect-redis-rs tests/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', `${name}.crt`],
    dir,
  )
}

function makeLeaf(dir, name, ca, cn, { server }) {
  makeKey(dir, name)
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/O=connect-redis-rs tests/CN=${cn}`, '-out', `${name}.csr`], dir)
  const ext = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    server ? 'extendedKeyUsage = serverAuth, clientAuth' : 'extendedKeyUsage = clientAuth',
    server ? 'subjectAltName = IP:127.0.0.1, DNS:localhost' : `subjectAltName = DNS:${cn}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ]
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext.join('\n') + '\n')
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-sha256',
      '-days', '825', '-extfile', `${name}.ext`, '-out', `${name}.crt`],
    dir,
  )
}

/** Generates the whole set in a fresh temp dir (or `dir`); see the header for what it returns. */
function generateCerts({ dir } = {}) {
  const out = dir || fs.mkdtempSync(path.join(os.tmpdir(), 'crr-tls-'))
  makeCa(out, 'ca', 'connect-redis-rs test CA')
  makeLeaf(out, 'server', 'ca', 'localhost', { server: true })
  makeLeaf(out, 'client', 'ca', 'connect-redis-rs-client', { server: false })
  makeCa(out, 'other-ca', 'an unrelated CA')
  makeLeaf(out, 'other-server', 'other-ca', 'localhost', { server: true })
  makeLeaf(out, 'other-client', 'other-ca', 'other-client', { server: false })

  const file = (name) => path.join(out, name)
  const read = (name) => fs.readFileSync(file(name), 'utf8')
  return {
    dir: out,
    caFile: file('ca.crt'),
    caKeyFile: file('ca.key'),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    clientCertFile: file('client.crt'),
    clientKeyFile: file('client.key'),
    otherCaFile: file('other-ca.crt'),
    otherServerCertFile: file('other-server.crt'),
    otherServerKeyFile: file('other-server.key'),
    otherClientCertFile: file('other-client.crt'),
    otherClientKeyFile: file('other-client.key'),
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    otherCa: read('other-ca.crt'),
    otherServerCert: read('other-server.crt'),
    otherServerKey: read('other-server.key'),
    otherClientCert: read('other-client.crt'),
    otherClientKey: read('other-client.key'),
    cleanup() {
      fs.rmSync(out, { recursive: true, force: true })
    },
  }
}

module.exports = { generateCerts }

if (require.main === module) {
  const certs = generateCerts({ dir: process.argv[2] })
  console.log(certs.dir)
}
