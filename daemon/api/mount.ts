// Registers a handler for a route of the contract (contract/routes.ts) on an
// express Router. The method and path come from the route object and the
// handler must return the route's answer type, so a route renamed in the
// contract, or an answer field renamed on either side, fails to compile here
// instead of drifting apart from the client that calls it.
import type { Request, Response, Router } from 'express';
import type { AnswerOf, HttpMethod, ParamsOf, QueryOf, Route } from '../contract/routes.js';
import { badRequest } from '../http/errors.js';

/** Where the management API's router is mounted; the contract's paths begin with it. */
export const API_PREFIX = '/api/v1';

type AnyRoute = Route<HttpMethod, string, unknown, unknown, unknown>;

/** Reads one query field (as express parsed it: a string, an array or undefined); throws a 400 naming it. */
export type QueryParser<T> = (raw: unknown, field: string) => T;

type Parsers = Record<string, QueryParser<unknown>>;

/** One parser per query field of the contract, each yielding that field's type, and no others. */
export type QueryParsers<Q, P> = { [K in keyof Q]-?: QueryParser<Q[K]> } & { [K in Exclude<keyof P, keyof Q>]: never };

type Parsed<P> = { [K in keyof P]: P[K] extends QueryParser<infer T> ? T : never };

export interface Call<R, P> {
  /** The path's parameters, as strings (each handler validates its own). */
  params: ParamsOf<R>;
  /** The query as the parsers read it, defaults applied. */
  query: Parsed<P>;
  /** The JSON body, not yet validated: that is the handler's (or the supervisor's) job. */
  body: unknown;
  req: Request;
  res: Response;
}

export type Handler<R, P> = (call: Call<R, P>) => AnswerOf<R> | Promise<AnswerOf<R>>;

/** The status of a successful JSON answer (default 200); a void answer is always 204. */
type Status = 200 | 201 | 202;

/** Options, with `query` required exactly when the contract gives the route a query. */
type Options<R, P> = QueryOf<R> extends undefined
  ? [options?: { status?: Status }]
  : [options: { status?: Status; query: P & QueryParsers<NonNullable<QueryOf<R>>, P> }];

export type On = <R extends AnyRoute, P extends Parsers = {}>(route: R, handler: Handler<R, P>, ...options: Options<R, P>) => void;

/**
 * `const on = mounter(router, '/api/v1')`, then `on(api.health, () => ...)`.
 * `prefix` is where the router is mounted: route paths are absolute.
 */
export function mounter(router: Router, prefix: string): On {
  const register = {
    GET: router.get.bind(router),
    POST: router.post.bind(router),
    PATCH: router.patch.bind(router),
    DELETE: router.delete.bind(router),
  } satisfies Record<HttpMethod, unknown>;
  return (route, handler, ...rest) => {
    if (!route.path.startsWith(`${prefix}/`)) throw new Error(`route ${route.path} is not under ${prefix}`);
    const opts = rest[0] as { status?: Status; query?: Parsers } | undefined;
    const parsers = opts?.query ?? {};
    const ok = opts?.status ?? 200;
    register[route.method](route.path.slice(prefix.length), async (req: Request, res: Response) => {
      const answer = await handler({
        params: req.params as ParamsOf<typeof route>,
        query: parseQuery(parsers, req) as never,
        body: req.body as unknown,
        req,
        res,
      });
      if (answer === undefined) res.status(204).end();
      else res.status(ok).json(answer);
    });
  };
}

/** Runs every parser over the request's query; for handlers that answer a route another way (SSE, text). */
export function parseQuery<P extends Parsers>(parsers: P, req: Request): Parsed<P> {
  const out: Record<string, unknown> = {};
  for (const [field, parse] of Object.entries(parsers)) out[field] = parse(req.query[field], field);
  return out as Parsed<P>;
}

// ---------- query parsers ----------

/** A whole number, `def` when absent, capped at `max`. */
export const intQuery =
  (def: number, max: number): QueryParser<number> =>
  (raw, field) => {
    if (raw === undefined) return def;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw badRequest(`${field}: expected a whole number`, field);
    return Math.min(Number(raw), max);
  };

/** 1/0/true/false, `def` when absent. */
export const boolQuery =
  (def: boolean): QueryParser<boolean> =>
  (raw, field) => {
    if (raw === undefined) return def;
    if (raw === '1' || raw === 'true') return true;
    if (raw === '0' || raw === 'false') return false;
    throw badRequest(`${field}: expected 1, 0, true or false`, field);
  };

/** One string, or undefined when absent; a repeated field is a 400, not a silent pick. */
export const optionalString =
  (): QueryParser<string | undefined> =>
  (raw, field) => {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') throw badRequest(`${field}: expected one value`, field);
    return raw;
  };
