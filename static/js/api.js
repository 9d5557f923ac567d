// Atelier's HTTP API as the pages use it: JSON in and out, the CSRF token from GET /api/me on
// every unsafe call, and every answer reduced to { ok, status, data, code }. `code` is the
// server's stable error code ("offline" when the server could not be reached): pages choose
// their own sentence by it and never show the server's message, which is not translated.

const SAFE = new Set(["GET", "HEAD"]);

export class Api {
  constructor() {
    this.csrf = null;
  }

  get(path) {
    return this.call("GET", path);
  }

  post(path, body) {
    return this.call("POST", path, body);
  }

  delete(path) {
    return this.call("DELETE", path);
  }

  // A refused CSRF token (the browser lost its cookie, the server's key changed) is renewed
  // from GET /api/me once, and the call made again.
  async call(method, path, body) {
    const answer = await this.send(method, path, body);
    if (answer.code !== "csrf") return answer;
    const me = await this.send("GET", "/api/me");
    if (!me.ok) return answer;
    this.csrf = me.data?.csrf ?? null;
    return this.send(method, path, body);
  }

  async send(method, path, body) {
    const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (!SAFE.has(method) && this.csrf) init.headers["X-CSRF-Token"] = this.csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      return { ok: false, status: 0, data: null, code: "offline" };
    }
    const data = await readJson(response);
    const code = response.ok ? null : data?.error?.code ?? `http_${response.status}`;
    return { ok: response.ok, status: response.status, data, code };
  }
}

async function readJson(response) {
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null; // an empty body or a proxy's HTML error page
  }
}

// Waits that grow to ten seconds: the server may still be starting when a classroom opens it.
export function backoff(attempt) {
  return new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
}
