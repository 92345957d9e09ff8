import { randomBytes, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors.js';

/**
 * Who may talk to the dashboard. A token is made when the server starts and lives in its memory
 * only (never in the database). On a loopback address the pages and data need no token, but the
 * Host header must name the loopback (a page of another site whose name resolves to 127.0.0.1 —
 * DNS rebinding — is refused); on any other address every request needs the token. Controls
 * (pause, resume) always need the token and a same-origin request.
 */
export const COOKIE = 'mosaic_token';
const TOKEN_HEADER = 'x-mosaic-token';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  return h === '::1';
}

/** The host name of a Host header (`127.0.0.1:8080`, `[::1]:8080`, `localhost`). */
function hostName(header: string): string {
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return colon >= 0 ? header.slice(0, colon) : header;
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

export class Guard {
  readonly token = randomBytes(24).toString('base64url');
  /** Reads need the token too (any address but the loopback). */
  readonly tokenForReads: boolean;

  constructor(bindHost: string) {
    this.tokenForReads = !isLoopbackHost(bindHost);
  }

  private matches(candidate: unknown): boolean {
    if (typeof candidate !== 'string' || candidate.length !== this.token.length) return false;
    return timingSafeEqual(Buffer.from(candidate), Buffer.from(this.token));
  }

  /** The token the request carries (header, cookie, or `?token=` once), if it is the right one. */
  private carried(request: FastifyRequest): 'header' | 'cookie' | 'query' | null {
    if (this.matches(request.headers[TOKEN_HEADER])) return 'header';
    const auth = request.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ') && this.matches(auth.slice(7))) return 'header';
    if (this.matches(parseCookies(request.headers.cookie)[COOKIE])) return 'cookie';
    if (this.matches((request.query as Record<string, unknown> | undefined)?.token)) return 'query';
    return null;
  }

  /** The cookie that carries the token afterwards: this site only, never readable by scripts. */
  tokenCookie(): string {
    return `${COOKIE}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /**
   * Checks every request (an `onRequest` hook). A valid `?token=` on a page is turned into the
   * cookie and the page reloaded without it, so the token leaves the address bar and history.
   * Resolves to true when it answered the request itself (that redirection).
   */
  async check(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const host = request.headers.host ?? '';
    if (!this.tokenForReads && !isLoopbackHost(hostName(host))) {
      throw new HttpError(403, `this dashboard answers to 127.0.0.1 or localhost only, not to "${host.slice(0, 100)}"`);
    }
    const carried = this.carried(request);
    const isControl = request.method !== 'GET' && request.method !== 'HEAD';
    if (isControl) {
      if (carried !== 'header' && carried !== 'cookie')
        throw new HttpError(403, 'controls need the dashboard token (open the page first)');
      this.checkSameOrigin(request);
      return false;
    }
    if (this.tokenForReads && carried === null)
      throw new HttpError(
        401,
        'this dashboard needs its token: open the address printed by mosaic dashboard (with ?token=...)',
      );
    if (carried === 'query') {
      reply.header('set-cookie', this.tokenCookie());
      if (!request.url.startsWith('/api/')) {
        const url = new URL(request.url, 'http://x');
        url.searchParams.delete('token');
        await reply.redirect(url.pathname + url.search, 303);
        return true;
      }
    }
    return false;
  }

  /** Controls come from our own page: Sec-Fetch-Site and Origin, when present, must say so, and one must be present. */
  private checkSameOrigin(request: FastifyRequest): void {
    const site = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    if (site === undefined && origin === undefined)
      throw new HttpError(403, 'controls need a same-origin request (no Origin header)');
    if (site !== undefined && site !== 'same-origin') throw new HttpError(403, 'controls need a same-origin request');
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`)
      throw new HttpError(403, 'controls need a same-origin request (Origin differs)');
    const type = request.headers['content-type'] ?? '';
    if (!type.startsWith('application/json')) throw new HttpError(415, 'controls take application/json');
  }
}

/** No inline scripts, no eval, nothing from elsewhere: the page's own files only. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
