/**
 * A PostgreSQL URL as Mosaic shows it: without its password or any other secret, and a scrubber
 * that removes those secrets from whatever text a driver error carries.
 */

/** Query parameters of a connection URL that hold secrets. */
const SECRET_PARAMS = /^(password|sslpassword)$/i;

/** The URL without password and secret parameters: what messages and checkpoints name. */
export function publicLocation(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL `URL` can read: drop anything between "//user:" and "@", and every query.
    return url.replace(/^([a-z]+:\/\/[^:/@?]*):[^@/?]*@/i, '$1@').replace(/\?.*$/, '');
  }
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) if (SECRET_PARAMS.test(key)) parsed.searchParams.delete(key);
  return parsed.toString();
}

/** The secrets a connection may use: the URL's password and secret parameters, and PGPASSWORD. */
export function secretsOf(url: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const secrets: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
    for (const [key, value] of parsed.searchParams) if (SECRET_PARAMS.test(key) && value) secrets.push(value);
  } catch {
    const m = /^[a-z]+:\/\/[^:/@?]*:([^@/?]*)@/i.exec(url);
    if (m?.[1]) secrets.push(m[1]);
  }
  if (env.PGPASSWORD) secrets.push(env.PGPASSWORD);
  return [...new Set(secrets)].sort((a, b) => b.length - a.length);
}

/**
 * Removes every secret from `text`, and the full URL (which may carry them in a form we did not
 * foresee). Short secrets are only removed as whole words, so that a one-letter password does not
 * shred the message.
 */
export function scrubber(url: string, env: NodeJS.ProcessEnv = process.env): (text: string) => string {
  const location = publicLocation(url);
  const secrets = secretsOf(url, env);
  return (text) => {
    let out = text.split(url).join(location);
    for (const secret of secrets) {
      if (secret.length >= 4) out = out.split(secret).join('***');
      else
        out = out.replace(
          new RegExp(`(?<![\\w])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w])`, 'g'),
          '***',
        );
    }
    return out;
  };
}
