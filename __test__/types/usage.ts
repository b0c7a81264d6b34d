// Compiled with tsc --strict by `npm test`: both API forms and the options type-check as users write them.
import session from 'express-session'
import connectRedis, { RedisStore, createClient } from 'connect-redis-rs'
const a = new RedisStore({ cluster: [{ host: 'h', port: 1 }], tls: { ca: 'x' }, ttl: (s) => 5 })
const b = new (connectRedis(session))({ sentinel: { sentinels: ['redis://h:1'], name: 'm' }, ttl: (store, s, sid) => 1 })
const c = createClient({ url: 'redis://x' })
a.get('x').then((s) => s?.cookie)
b.destroy(['a', 'b'], (err, n) => n)
c.quit()
