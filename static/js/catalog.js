// The catalog of perspectives from GET /api/catalog, in the page's language, retried until
// it loads (the server may still be starting when a classroom opens the page).

export async function loadCatalog(lang, { onRetry } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const response = await fetch(`/api/catalog?lang=${encodeURIComponent(lang)}`);
      if (response.ok) return await response.json();
    } catch {
      // offline or server restarting: retried below
    }
    onRetry?.(attempt);
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
  }
}
