import { SecretError } from './secret-error';

/**
 * The PostgreSQL connection URL a secret holds: the URL itself (`postgresql://user:pw@host:5432/db`), or the
 * JSON that Secrets Manager keeps for database credentials (`host`, `port`, `username`, `password`, `dbname`).
 */
export function connectionUrlFromSecret(name: string, value: string): string {
  const text = value.trim();
  if (/^postgres(ql)?:\/\//.test(text)) {
    if (URL.canParse(text)) return text;
    throw invalid(name);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw invalid(name);
  }
  const { host, port, username, password, dbname } = parsed;
  if (typeof host !== 'string' || typeof username !== 'string' || typeof password !== 'string')
    throw invalid(name);
  const url = new URL('postgresql://placeholder');
  url.hostname = host;
  if (port !== undefined) url.port = String(port);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  if (typeof dbname === 'string') url.pathname = `/${encodeURIComponent(dbname)}`;
  return url.toString();
}

function invalid(name: string): SecretError {
  return new SecretError(
    'SecretInvalid',
    name,
    `secret ${name} holds neither a postgresql:// URL nor JSON with host, username and password (port, dbname optional): store one of those`,
  );
}
