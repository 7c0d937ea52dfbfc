// The reference Bluesky PDS and an in-memory PLC directory on loopback, for the Bluesky tests.
//
// Usage: NODE_PATH=<install>/node_modules node launch.js DATA_DIR [--appview URL] [--exit-with-stdin]
// (scripts/install-pds prints <install>). With --appview the PDS proxies app.bsky.* calls to URL
// (tests/fakes/bluesky_appview.py), which must already be listening. Prints one JSON line on
// stdout once both servers answer,
// {"pds": URL, "plc": URL, "admin_password": ...}, and shuts both down on SIGTERM or SIGINT, or
// when stdin closes if asked (so a test run that is killed outright leaves no server behind).
// Secrets are new on every start.
'use strict'

const crypto = require('node:crypto')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

// The PDS logs through pino to stdout when LOG_ENABLED is set: keep stdout for the JSON line.
process.env.LOG_DESTINATION = process.env.LOG_DESTINATION || '/dev/stderr'

const HOST = '127.0.0.1'
// The DID Bluesky's own PDSes name their AppView by. The PDS never resolves the DID of the AppView
// it is configured with (a call without an atproto-proxy header, or with "<this DID>#bsky_appview",
// goes straight to --appview), so a client that names the real AppView explicitly reaches the
// fake too, and nothing leaves loopback.
const APPVIEW_DID = 'did:web:api.bsky.app'

// Both servers call app.listen(port) with no host, i.e. on every interface: pin them to loopback.
function loopbackOnly(app) {
  const listen = app.listen.bind(app)
  app.listen = (port, ...rest) => listen(port, HOST, ...rest)
}

// The PDS puts its port in its public URL and DID document, so it must be known before it starts.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function option(name) {
  const at = process.argv.indexOf(name)
  return at === -1 ? undefined : process.argv[at + 1]
}

function k256PrivateKeyHex() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  return Buffer.from(privateKey.export({ format: 'jwk' }).d, 'base64url').toString('hex')
}

async function main() {
  const dataDir = process.argv[2]
  if (!dataDir) throw new Error('usage: node launch.js DATA_DIR')
  fs.mkdirSync(path.join(dataDir, 'blobs'), { recursive: true })

  const { PlcServer, Database: PlcDatabase } = require('@did-plc/server')
  const { PDS, readEnv, envToCfg, envToSecrets } = require('@atproto/pds')

  const plc = PlcServer.create({ db: PlcDatabase.mock(), port: 0 })
  loopbackOnly(plc.app)
  const plcUrl = `http://localhost:${(await plc.start()).address().port}`

  const port = await freePort()
  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: String(port),
    PDS_DATA_DIRECTORY: dataDir,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_DID_PLC_URL: plcUrl,
    PDS_JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    PDS_ADMIN_PASSWORD: crypto.randomBytes(16).toString('hex'),
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: k256PrivateKeyHex(),
    PDS_DEV_MODE: 'true',
    PDS_INVITE_REQUIRED: 'false',
    PDS_CRAWLERS: '',
  })
  const appview = option('--appview')
  if (appview) {
    Object.assign(process.env, { PDS_BSKY_APP_VIEW_URL: appview, PDS_BSKY_APP_VIEW_DID: APPVIEW_DID })
  }
  const env = readEnv()
  const pds = await PDS.create(envToCfg(env), envToSecrets(env))
  loopbackOnly(pds.app)
  await pds.start()

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await pds.destroy()
    await plc.destroy()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  if (process.argv.includes('--exit-with-stdin')) process.stdin.on('end', stop).resume()

  process.stdout.write(
    JSON.stringify({ pds: `http://localhost:${port}`, plc: plcUrl, admin_password: env.adminPassword }) + '\n',
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
