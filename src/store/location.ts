/** Database locations: a file path (SQLite) or a URL (`postgres://…`). */

export const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location);

export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * The location as it may be shown, logged or remembered: a URL without its password (nor
 * `password=` in its query). Paths are unchanged.
 */
export function displayLocation(location: string): string {
  if (!isUrl(location)) return location;
  try {
    const url = new URL(location);
    url.password = '';
    url.searchParams.delete('password');
    return url.toString();
  } catch {
    // An unparsable URL: drop anything between "://" and "@", where a password would be.
    return location.replace(/:\/\/[^@/]*@/, '://***@');
  }
}
