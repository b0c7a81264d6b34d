// The module under test for connect-redis 3.4.2's suite (its `require('../')`), on the foreign
// path: this package's store, given a node_redis 2.8 client made from the store's options
// exactly as connect-redis 3.4.2 made it (lib/connect-redis.js) whenever the test passes none.
var connectRedis = require({{REPO}});
var redis = require('redis');

function clientFor(options) {
  var opts = Object.assign({}, options);
  // connect-redis 3.4.2 deleted these before creating its client (node_redis has a `prefix`).
  delete opts.prefix;
  delete opts.scanCount;
  if (opts.url) opts.socket = opts.url;
  var client = opts.socket ? redis.createClient(opts.socket, opts) : redis.createClient(opts);
  if (opts.pass) client.auth(opts.pass, function () {});
  if (opts.unref) client.unref();
  if ('db' in opts) {
    client.select(opts.db);
    client.on('connect', function () { client.select(opts.db); });
  }
  return client;
}

module.exports = function (session) {
  var Base = connectRedis(session);
  return class RedisStore extends Base {
    constructor(options) {
      options = options || {};
      super(options.client ? options : Object.assign({}, options, { client: clientFor(options) }));
    }
  };
};
