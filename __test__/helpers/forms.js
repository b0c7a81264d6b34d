'use strict'
// Both API forms of the package, so a suite can loop over them:
//   factory: require('connect-redis-rs')(require('express-session'))   (connect-redis 3.x)
//   named:   require('connect-redis-rs').RedisStore                      (connect-redis 10.x)

const path = require('node:path')
const session = require('express-session')

const pkg = require(path.join(__dirname, '..', '..'))

const factory = pkg(session)
const named = pkg.RedisStore

const forms = [
  { name: 'factory', Store: factory },
  { name: 'named', Store: named },
]

module.exports = { pkg, session, factory, named, forms }
