#!/usr/bin/env node
// Reference oracle for eduadvocate's X counting: the official npm twitter-text 3.1.0.
//
// Default mode: reads JSON lines {"text": str, "config": "v1"|"v2"|"v3"|{...}} on stdin and answers each
// at once with one JSON line holding parseTweet and every extractor's entities, so one process
// can serve a whole test session.  Entity indices are converted from UTF-16 units to code
// points, the unit the Python API uses.
//
// --bench SECONDS: reads JSON lines {"text": str} and times parseTweet over them in-process for
// about SECONDS, printing {"texts": n, "seconds": s, "texts_per_second": r}.
'use strict';

const twttr = require('twitter-text');

const CONFIGS = {
  v1: twttr.configs.version1,
  v2: twttr.configs.version2,
  v3: twttr.configs.version3,
};

function readLines() {
  const input = require('fs').readFileSync(0, 'utf8');
  return input.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));
}

function toCodePoints(text, entities) {
  // The code-point index of UTF-16 index i is the number of code points before it.
  const at = (i) => Array.from(text.slice(0, i)).length;
  return entities.map((e) => Object.assign({}, e, { indices: [at(e.indices[0]), at(e.indices[1])] }));
}

function describe(item) {
  const text = item.text;
  // A config is a name (v1-v3) or a twitter-text options object.
  const config = typeof item.config === 'object' ? item.config : CONFIGS[item.config || 'v3'];
  const urlOptions = { extractUrlsWithoutProtocol: true };
  return {
    parse: twttr.parseTweet(text, config),
    urls: toCodePoints(text, twttr.extractUrlsWithIndices(text, urlOptions)),
    urlsWithProtocol: toCodePoints(
      text,
      twttr.extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false }),
    ),
    mentionsOrLists: toCodePoints(text, twttr.extractMentionsOrListsWithIndices(text)),
    hashtags: toCodePoints(text, twttr.extractHashtagsWithIndices(text)),
    cashtags: toCodePoints(text, twttr.extractCashtagsWithIndices(text)),
    entities: toCodePoints(text, twttr.extractEntitiesWithIndices(text)),
  };
}

function bench(seconds) {
  const texts = readLines().map((item) => item.text);
  const budget = seconds * 1000;
  let done = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < budget || done === 0) {
    for (const text of texts) twttr.parseTweet(text);
    done += texts.length;
    elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  }
  const s = elapsed / 1000;
  process.stdout.write(JSON.stringify({ texts: done, seconds: s, texts_per_second: done / s }) + '\n');
}

if (process.argv[2] === '--bench') {
  bench(Number(process.argv[3] || '2'));
} else {
  const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (line.length > 0) process.stdout.write(JSON.stringify(describe(JSON.parse(line))) + '\n');
  });
}
