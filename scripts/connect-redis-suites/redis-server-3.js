// Supplied by connect-redis-rs's scripts/connect-redis-suites/run.js in place of connect-redis
// 3.4.2's test/redis-server.js (same exports): a throwaway redis-server on the free port the
// runner picked, waited for instead of a fixed 1.5 s delay, and stopped by pid.
var startRedis = require({{REPO}} + '/scripts/redis-server').startRedis;
var server;
var port = exports.port = Number(process.env.CONNECT_REDIS_SUITE_PORT);

exports.connect = function () {
  return startRedis({ port: port }).then(function (s) { server = s; });
};

exports.disconnect = function () {
  return server.close();
};
