'use strict'
// The native addon, as the modules of lib/ get it. ../binding.js is the loader napi-rs
// generates (`npm run build`); load-binding.js turns "no binary for this machine" into an error
// that names the platform, the package that would have carried the binary, and the way to build
// it from source.

module.exports = require('./load-binding').loadBinding()
