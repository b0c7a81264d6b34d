// The module under test for connect-redis 3.4.2's suite (its `require('../')`): this package.
module.exports = require({{REPO}});
