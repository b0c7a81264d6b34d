'use strict'
// The lifecycle suite (__test__/helpers/lifecycle-suite.js) against one standalone redis-server:
// every store operation in both API forms, with callbacks and with promises (SPEC.md section 4),
// the callback contract, calling the class without `new`, and live public properties.
// cluster.test.js and sentinel.test.js run the same suite against their topologies.

const test = require('ava')
const { useRedis } = require('./helpers/redis')
const { lifecycleSuite } = require('./helpers/lifecycle-suite')
const { standaloneRedis } = require('./helpers/topology')

const r = useRedis(test)

lifecycleSuite(test, () => ({ host: r.host, port: r.port }), () => standaloneRedis(r))
