import type { ExtraRoute } from './server.js';

/** Serves the reference web client at `/` (issue 5). */
export function webRoutes(): ExtraRoute[] {
  return [];
}
