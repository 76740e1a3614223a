// The service worker of the pages: once a page was opened online, the shell, the scripts and
// the last answers of the API it read are kept, so the report form opens without a connection
// (its drafts are in IndexedDB; sending waits for the connection, see entry.js). Reads go to the
// network first and fall back to what was kept; writes are never touched.

const SHELL = "innoreport-shell-v1";
const API = "innoreport-api-v1";
const ASSETS = ["/", "/assets/app.js", "/assets/sheets.js", "/assets/accounts.js", "/assets/tasks.js",
  "/assets/notices.js", "/assets/entry.js", "/assets/app.css", "/assets/icon.svg"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(SHELL).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => ![SHELL, API].includes(k)).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request, cacheName, fallback) {
  try {
    const answer = await fetch(request);
    if (answer.ok) (await caches.open(cacheName)).put(request, answer.clone());
    return answer;
  } catch (e) {
    const kept = await caches.match(fallback || request, { cacheName });
    if (kept) return kept;
    throw e;
  }
}

self.addEventListener("fetch", (e) => {
  const request = e.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Every page is the same shell; the script reads the path.
    e.respondWith(networkFirst(request, SHELL, "/"));
  } else if (url.pathname.startsWith("/assets/")) {
    e.respondWith(networkFirst(request, SHELL));
  } else if (url.pathname.startsWith("/api/v1/") && !url.searchParams.has("format")) {
    e.respondWith(networkFirst(request, API));
  }
});
