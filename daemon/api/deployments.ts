// /api/v1/deployments: CRUD, lifecycle and logs. Handlers only translate HTTP
// to supervisor calls; every decision lives in the supervisor.
import type { Request, RequestHandler, Response } from 'express';
import type { LogStreamEvents } from '../contract/api.js';
import { DNS_LABEL } from '../contract/deployment.js';
import { api } from '../contract/routes.js';
import { badRequest, notFound } from '../http/errors.js';
import { openSse } from '../http/sse.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { boolQuery, intQuery, optionalString, parseQuery, type On } from './mount.js';

function deploymentName(params: { name: string }): string {
  if (!DNS_LABEL.test(params.name)) throw notFound(`deployment ${params.name} does not exist`, 'deployment_not_found');
  return params.name;
}

function jsonBody(body: unknown): unknown {
  if (body === undefined) throw badRequest('expected a JSON body (Content-Type: application/json)');
  return body;
}

const LOGS_QUERY = { replica: optionalString(), tail: intQuery(100, 5000), ansi: boolQuery(false) };

export function mountDeployments(on: On, sup: Supervisor): void {
  on(api.listDeployments, () => ({ deployments: sup.list() }));
  on(api.createDeployment, ({ body, query }) => sup.create(jsonBody(body), { start: query.start }), {
    status: 201,
    query: { start: boolQuery(true) },
  });
  on(api.getDeployment, ({ params }) => sup.get(deploymentName(params)));
  on(api.updateDeployment, ({ params, body }) => sup.update(deploymentName(params), jsonBody(body)));
  on(api.deleteDeployment, ({ params }) => sup.remove(deploymentName(params)));
  on(api.startDeployment, ({ params }) => sup.start(deploymentName(params)), { status: 202 });
  on(api.stopDeployment, ({ params }) => sup.stop(deploymentName(params)));
  on(api.restartDeployment, ({ params }) => sup.restart(deploymentName(params)), { status: 202 });
  on(
    api.deploymentLogs,
    ({ params, query }) => {
      const replica = sup.replicaForLogs(deploymentName(params), query.replica);
      return { replica: replica?.id ?? null, lines: replica ? replica.output.tail(query.tail, { ansi: query.ansi }) : [] };
    },
    { query: LOGS_QUERY },
  );
}

/**
 * The logs route's other two answers, registered before the JSON one: with
 * `follow=1` a stream (contract `streams.deploymentLogs`, LogStreamEvents):
 * each replica's tail after its `event: replica`, then its lines as they
 * come, one `data:` message each; and plain text for a client that prefers
 * it (curl) or asks for `format=text`.
 */
export function deploymentLogsAlternatives(sup: Supervisor): RequestHandler {
  return (req: Request, res: Response, next) => {
    const follow = boolQuery(false)(req.query.follow, 'follow');
    const format = optionalString()(req.query.format, 'format');
    if (format !== undefined && format !== 'text' && format !== 'json') throw badRequest('format: expected text or json', 'format');
    const text = format === 'text' || (format === undefined && req.accepts(['text/plain', 'application/json']) !== 'application/json');
    if (!follow && !text) return next();
    const query = parseQuery(LOGS_QUERY, req);
    const name = deploymentName({ name: String(req.params.name) });
    if (!follow) {
      const replica = sup.replicaForLogs(name, query.replica);
      const lines = replica ? replica.output.tail(query.tail, { ansi: query.ansi }) : [];
      res.type('text/plain').send(lines.length ? lines.join('\n') + '\n' : '');
      return;
    }
    // Checked before the stream opens: an unknown deployment or replica is still a 404.
    const attach = sup.followLogs(name, query);
    const sse = openSse(req, res);
    const named = <E extends keyof LogStreamEvents>(event: E, data: LogStreamEvents[E]) => sse.send(data, event);
    sse.onClose(
      attach({
        replica(id, tail) {
          named('replica', { replica: id });
          for (const line of tail) sse.send(line);
        },
        lines(batch) {
          for (const line of batch) sse.send(line);
        },
        end(reason) {
          named('end', { reason });
          res.end();
        },
      }),
    );
  };
}
