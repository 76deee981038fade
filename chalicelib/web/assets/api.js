// The console's REST client: the token goes in the Authorization header, never in a URL.
// Paths are relative ("v1/..."), so the console works wherever the app is mounted (/app locally,
// /api/app behind an API Gateway stage).

export class ApiError extends Error {
  constructor(message, status, code, details) {
    super(message);
    Object.assign(this, {status, code, details});
  }
}

export class Api {
  // token: () => the current token; onUnauthorized: called once a token is refused.
  constructor(token, onUnauthorized) {
    Object.assign(this, {token, onUnauthorized});
  }

  url(path, query = {}) {
    const url = new URL(path, document.baseURI);
    for (const [name, value] of Object.entries(query)) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
    }
    return url;
  }

  async call(method, path, {body, query} = {}) {
    const headers = {Authorization: `Bearer ${this.token()}`};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(this.url(path, query), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    if (response.status === 401) this.onUnauthorized();
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(error.message || `The request failed (${response.status}).`, response.status, error.code,
                         error.details);
    }
    return data;
  }

  // A binary download, as a Blob.
  async blob(path, accept) {
    const response = await fetch(this.url(path), {headers: {Authorization: `Bearer ${this.token()}`, Accept: accept}});
    if (response.status === 401) this.onUnauthorized();
    if (!response.ok) {
      const error = ((await response.json().catch(() => null)) || {}).error || {};
      throw new ApiError(error.message || `The download failed (${response.status}).`, response.status, error.code);
    }
    return response.blob();
  }

  get(path, query) { return this.call("GET", path, {query}); }
  post(path, body) { return this.call("POST", path, {body}); }
  patch(path, body) { return this.call("PATCH", path, {body}); }
  put(path, body) { return this.call("PUT", path, {body}); }
  delete(path, body) { return this.call("DELETE", path, {body}); }

  // Every page of a listing that answers {items, next_cursor}, up to a bound.
  async all(path, query = {}, maxPages = 10) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < maxPages; page += 1) {
      const answer = await this.get(path, {...query, cursor});
      items.push(...answer.items);
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
    return items;
  }
}

// Logging in is the one call without a token. fields: {tenant_id, email, password} and, for
// two-factor, totp_code, recovery_code, remember_device or device_token. A refusal keeps its code
// (`totp_required`: the password was right and a second factor is due; its details say
// `remember_device_days`).
export async function login(fields) {
  const response = await fetch(new URL("v1/auth/login", document.baseURI), {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(fields)});
  const data = await response.json().catch(() => ({}));
  const error = data.error || {};
  if (!response.ok) throw new ApiError(error.message || "Sign-in failed.", response.status, error.code, error.details);
  return data;
}
