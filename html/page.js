// page.js: what publisher.html and player.html share: the query string,
// the status line (also kept in window.lc, which the browser tests read)
// and the one signaling session of the page.
"use strict";
const lcPage = (() => {
  const params = new URLSearchParams(location.search);
  const $ = id => document.getElementById(id);
  const url = livecdn.defaultUrl(8080);
  let session = null;
  window.lc = { status: "idle", info: "", stats: null };

  function show(status, info, error) {
    window.lc.status = status;
    window.lc.info = info || "";
    $("status").textContent = status + (info ? ": " + info : "");
    $("status").className = error ? "err" : "";
  }

  // The session, connected; onDown() when it drops later.
  function connect(onDown) {
    return new Promise((resolve, reject) => {
      if (session && session.status() === "ESTABLISHED") return resolve(session);
      show("connecting", url);
      session = livecdn.createSession({ url });
      session.on("ESTABLISHED", () => resolve(session));
      session.on("FAILED", ev => { show("FAILED", ev.info, true); session = null; reject(new Error(ev.info)); });
      session.on("DISCONNECTED", ev => { show("DISCONNECTED", ev.info, true); session = null; onDown(); });
    });
  }

  $("url").textContent = url;
  if (params.get("name")) $("name").value = params.get("name");
  return { params, $, url, show, connect };
})();
