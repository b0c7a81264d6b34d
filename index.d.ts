// Types for both API forms of connect-redis-rs: the connect-redis 3.x factory
// (`require('connect-redis-rs')(session)`) and the connect-redis 10 class (`RedisStore`).
import { EventEmitter } from 'node:events'
import type { SessionData, Store } from 'express-session'

/** A node-style callback. */
export type Callback<T> = (err: Error | null, result?: T) => void

/** Options of the native connection (used when no `client` is given, and by `createClient`). */
export interface ConnectionOptions {
  /** `redis://[user[:pass]@]host[:port][/db]` or `unix:///path/to.sock[?db=N]`. */
  url?: string
  /** Default `127.0.0.1`. */
  host?: string
  /** Default `6379`; a number or a numeric string. */
  port?: number | string
  /** A unix socket path (a string that parses as a URL is taken as `url`, as in 3.x). */
  socket?: string
  /** node_redis alias of `socket`. */
  path?: string
  /** Database index, default 0; an integer or an integer string. */
  db?: number | string
  password?: string
  /** Alias of `password` (connect-redis 3.x). */
  pass?: string
  /** node_redis alias of `password`. */
  auth_pass?: string
  /** Redis 6 ACL user name. */
  username?: string
  /** TLS in every mode (rustls): `true`, or CA / client certificate settings. `rediss://` URLs turn it on. */
  tls?: boolean | TlsOptions
  /** Redis Cluster seed nodes; `password`, `username` and `tls` apply to every node. */
  cluster?: Array<{ host?: string; port?: number | string } | string>
  /** Cluster: let reads go to replicas (default false). */
  readFromReplicas?: boolean
  /** Sentinel: the store asks the sentinels for the primary of `name` and follows failovers. */
  sentinel?: SentinelOptions
  /** Milliseconds to establish a connection (default 10000). */
  connectTimeout?: number
  /** node_redis alias of `connectTimeout`. */
  connect_timeout?: number
  /** Milliseconds an operation may take, including waiting for a connection (default 5000). */
  commandTimeout?: number
}

export interface TlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>
  /** PEM client certificate, for servers that require one (with `key`). */
  cert?: string | Buffer
  /** PEM client key (with `cert`). */
  key?: string | Buffer
  /** `false` accepts any server certificate (default true). */
  rejectUnauthorized?: boolean
}

export interface SentinelOptions {
  sentinels: Array<{ host?: string; port?: number | string } | string>
  /** The name of the monitored primary, e.g. `'mymaster'`. */
  name: string
  /** The data nodes' password / ACL user (top-level `password` / `username` work too). */
  password?: string
  username?: string
  /** The sentinels' own password / ACL user. */
  sentinelPassword?: string
  sentinelUsername?: string
  /** TLS to the sentinels (top-level `tls` is for the data nodes). */
  tls?: boolean | TlsOptions
}

/** A session as the store reads it back; `all()` adds `id`. */
export type StoredSession = SessionData & { id?: string; [key: string]: unknown }

export interface Serializer {
  stringify(value: unknown): string
  parse(text: string): unknown | Promise<unknown>
}

export interface StoreOptions<TtlFn> extends ConnectionOptions {
  /** A client from `createClient()` (shared between stores), or an existing node_redis 2.x/3.x,
   * node-redis 4/5/6 (client or cluster) or ioredis (client or Cluster) client. */
  client?: NativeClient | object
  /** Key prefix, default `'sess:'`; `''` is kept. */
  prefix?: string
  /** COUNT hint for SCAN, default 100. */
  scanCount?: number
  /** Default `JSON`. */
  serializer?: Serializer
  /** Seconds (a number or numeric string) or a function; `0` means "not set". */
  ttl?: number | string | TtlFn
  /** Store sessions without expiry; `touch` does nothing. */
  disableTTL?: boolean
  /** `touch` does nothing. */
  disableTouch?: boolean
  /** `true` prints errors with console.error; a function is called with each error. */
  logErrors?: boolean | ((err: Error) => void)
  /** Accepted for 3.x compatibility; the store never keeps the process alive by itself. */
  unref?: boolean
}

/** The native client: one Redis connection that several stores can share. */
export declare class NativeClient extends EventEmitter {
  /** `'host:port'` or the socket path. */
  readonly address: string
  /** Whether the connection is up right now. */
  readonly connected: boolean
  /** Finishes in-flight operations, then closes. Later operations fail with `ERR_REDIS_CLOSED`. */
  quit(callback?: Callback<'OK'>): Promise<'OK'>
  /** Closes at once; operations in flight fail with `ERR_REDIS_CLOSED`. */
  end(): void
  /** Accepted for node_redis compatibility; the client never keeps the process alive. */
  unref(): void
  on(event: 'connect' | 'ready' | 'end', listener: () => void): this
  on(event: 'disconnect', listener: (err: Error) => void): this
}

declare class RedisStoreBase<TtlFn> extends Store {
  constructor(options?: StoreOptions<TtlFn>)
  /** The native client, or the client passed as `client`, untouched. */
  client: NativeClient | any
  prefix: string
  scanCount: number
  serializer: Serializer
  /** The class form shows 86400 when no `ttl` was given (as connect-redis 10). */
  ttl: number | string | TtlFn | undefined
  disableTTL: boolean
  disableTouch: boolean
  logErrors: boolean | ((err: Error) => void)

  get(sid: string, callback?: Callback<StoredSession | null>): Promise<StoredSession | null>
  set(sid: string, session: SessionData, callback?: Callback<'OK'>): Promise<'OK'>
  /** 1 if the session existed, 0 if not (always 0 with disableTouch / disableTTL). */
  touch(sid: string, session: SessionData, callback?: Callback<number>): Promise<number>
  /** Number of keys deleted. */
  destroy(sid: string | string[], callback?: Callback<number>): Promise<number>
  ids(callback?: Callback<string[]>): Promise<string[]>
  length(callback?: Callback<number>): Promise<number>
  all(callback?: Callback<StoredSession[]>): Promise<StoredSession[]>
  /** Number of keys deleted. */
  clear(callback?: Callback<number>): Promise<number>
  /** Stops listening to the client and closes it if the store created it. */
  close(): Promise<'OK'>

  on(event: 'connect', listener: () => void): this
  on(event: 'disconnect', listener: (err: Error) => void): this
  on(event: 'corrupt', listener: (sid: string, err: Error) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

/** connect-redis 10 form: `ttl(sess)`. */
export declare class RedisStore extends RedisStoreBase<(session: SessionData) => number> {}

/** connect-redis 3.x form: `ttl(store, sess, sid)`. */
export declare class FactoryRedisStore extends RedisStoreBase<
  (store: FactoryRedisStore, session: SessionData, sid: string) => number
> {}

/** Creates a native client to share between stores: `new RedisStore({ client })`. */
export declare function createClient(options?: ConnectionOptions): NativeClient

/** The connect-redis 3.x factory: `require('connect-redis-rs')(session)`. */
declare function connectRedis(session: { Store: typeof Store }): typeof FactoryRedisStore
declare namespace connectRedis {
  export { RedisStore, createClient }
}
export default connectRedis
