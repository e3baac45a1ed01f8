/*
 * livecdn.js: the browser client of livecdn (SPEC sections 4 and 8).
 * No dependencies; load it with <script src="livecdn.js"></script> and use
 * the global `livecdn`:
 *
 *   if (!livecdn.checkSystemRequirements()) alert(livecdn.missingFeatures().join(", "));
 *   const session = livecdn.createSession({ url: "ws://host:8080/" });
 *   session.on("ESTABLISHED", () => {
 *     const stream = session.createStream({ name: "cam", display: videoElement, codec: "VP8" });
 *     stream.on("PUBLISHING", () => ...).on("FAILED", ev => console.log(ev.info));
 *     stream.publish();          // or stream.play()
 *   });
 *
 * Session events: ESTABLISHED, DISCONNECTED (the WebSocket closed after the
 * session was established), FAILED (it never was), ERROR (the server's
 * {"event":"error","info"} for a request it refused), and any other server
 * event by its name (e.g. "liveStreaming", "redirect"). Stream events: PENDING,
 * PUBLISHING, PLAYING, UNPUBLISHED, STOPPED, FAILED; each callback gets the
 * server's event object ({id, name, status, info?}) or, for errors found on
 * this side, {status: "FAILED", info: "..."}.
 *
 * The server is ICE-lite and puts its host candidates in its answer, so the
 * offer is sent once ICE gathering completes (no trickle).
 */
(function (global) {
  "use strict";

  const GATHER_TIMEOUT_MS = 3000; // send the offer with what we have by then
  const PING_INTERVAL_MS = 20000; // keeps idle proxies from closing the WebSocket

  /* ------------------------------------------------------------ events */

  class Emitter {
    constructor() {
      this._handlers = {};
    }
    on(event, cb) {
      (this._handlers[event] = this._handlers[event] || []).push(cb);
      return this;
    }
    off(event, cb) {
      const list = this._handlers[event] || [];
      const i = list.indexOf(cb);
      if (i >= 0) list.splice(i, 1);
      return this;
    }
    _emit(event, arg) {
      for (const cb of (this._handlers[event] || []).slice()) {
        try {
          cb(arg);
        } catch (e) {
          console.error("livecdn: a " + event + " handler threw", e);
        }
      }
    }
  }

  /* ------------------------------------------------------------ requirements */

  /* What this browser lacks to publish (mode "publish", the default) or only
   * to play (mode "play": no camera needed), in words; [] if nothing. */
  function missingFeatures(mode) {
    const missing = [];
    if (typeof global.WebSocket !== "function") missing.push("WebSocket");
    if (typeof global.RTCPeerConnection !== "function") missing.push("RTCPeerConnection");
    if (!global.RTCRtpTransceiver || !("setCodecPreferences" in RTCRtpTransceiver.prototype))
      missing.push("RTCRtpTransceiver.setCodecPreferences");
    if (mode !== "play" && !(global.navigator && navigator.mediaDevices && navigator.mediaDevices.getUserMedia))
      missing.push("getUserMedia (the page must come from https:// or localhost)");
    return missing;
  }

  /* true when this browser can publish (or, with mode "play", play); see missingFeatures(mode) for why not. */
  function checkSystemRequirements(mode) {
    return missingFeatures(mode).length === 0;
  }

  /* The codecs of `kind` the browser can send or receive, `codec` first ("VP8", "H264"),
   * the others after it. For H.264, packetization-mode=1 Constrained Baseline first:
   * every player can decode that. Returns null if the browser does not have `codec`. */
  function preferredCodecs(kind, codec, direction, only) {
    const source = direction === "recvonly" ? global.RTCRtpReceiver : global.RTCRtpSender;
    const caps = source && source.getCapabilities ? source.getCapabilities(kind) : null;
    if (!caps || !codec) return null;
    const want = kind + "/" + codec.toLowerCase();
    const score = c => {
      const fmtp = c.sdpFmtpLine || "";
      let s = 0;
      if (/packetization-mode=1/.test(fmtp)) s -= 2;
      if (/profile-level-id=42e0/.test(fmtp)) s -= 1;
      return s;
    };
    const chosen = caps.codecs.filter(c => c.mimeType.toLowerCase() === want).sort((a, b) => score(a) - score(b));
    if (!chosen.length) return null;
    const helpers = /\/(rtx|red|ulpfec|flexfec-03)$/i; // repair formats, not codecs of their own
    const rest = caps.codecs.filter(c => c.mimeType.toLowerCase() !== want && (!only || helpers.test(c.mimeType)));
    return chosen.concat(rest);
  }

  function waitGathering(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise(resolve => {
      const timer = setTimeout(done, GATHER_TIMEOUT_MS);
      function done() {
        clearTimeout(timer);
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      }
      function check() {
        if (pc.iceGatheringState === "complete") done();
      }
      pc.addEventListener("icegatheringstatechange", check);
    });
  }

  /* ------------------------------------------------------------ session */

  let nextStreamId = 1;

  class Session extends Emitter {
    constructor(options) {
      super();
      if (!options || !options.url) throw new Error("createSession needs {url: \"ws://host:port/\"}");
      this.url = options.url;
      this.token = options.token;
      this._status = "PENDING";
      this._sessionId = null;
      this._streams = new Map(); // id -> Stream
      this._ping = null;
      this._open();
    }

    status() { return this._status; }
    id() { return this._sessionId; }
    getStreams() { return Array.from(this._streams.values()); }

    _open() {
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (e) {
        setTimeout(() => this._setStatus("FAILED", { info: "Bad signaling URL: " + e.message }), 0);
        return;
      }
      this._ws = ws;
      ws.onopen = () => {
        const msg = { method: "connect" };
        if (this.token) msg.token = this.token;
        this._send(msg);
      };
      ws.onmessage = ev => {
        let msg;
        try {
          msg = JSON.parse(ev.data);
        } catch (e) {
          console.error("livecdn: the server sent something that is not JSON", ev.data);
          return;
        }
        this._onMessage(msg);
      };
      ws.onclose = ev => {
        clearInterval(this._ping);
        const was = this._status;
        const info = ev.reason || "WebSocket closed (code " + ev.code + ")";
        for (const st of this._streams.values()) st._ended("FAILED", "Signaling connection lost: " + info);
        this._streams.clear();
        if (was === "ESTABLISHED") this._setStatus("DISCONNECTED", { info });
        else if (was !== "DISCONNECTED") this._setStatus("FAILED", { info: "Cannot connect to " + this.url + ": " + info });
      };
    }

    _setStatus(status, ev) {
      this._status = status;
      this._emit(status, Object.assign({ status }, ev || {}));
    }

    _send(msg) {
      if (!this._ws || this._ws.readyState !== WebSocket.OPEN) return false;
      this._ws.send(JSON.stringify(msg));
      return true;
    }

    _onMessage(msg) {
      if (msg.event === "session" && msg.status === "ESTABLISHED") {
        this._sessionId = msg.sessionId;
        this._ping = setInterval(() => this._send({ method: "ping" }), PING_INTERVAL_MS);
        this._setStatus("ESTABLISHED", msg);
      } else if (msg.event === "stream") {
        const st = this._streams.get(String(msg.id));
        if (st) st._onEvent(msg);
      } else if (msg.event === "error") {
        console.warn("livecdn: server error:", msg.info);
        this._emit("ERROR", msg);
      } else if (msg.event !== "pong") {
        this._emit(msg.event, msg); // liveStreaming, redirect...
      }
    }

    /* options: name (required), display (a <video> element), constraints
     * (getUserMedia constraints, default {audio: true, video: true}),
     * mediaStream (publish this instead of asking for the camera),
     * codec ("VP8" or "H264": the video codec to prefer), audioCodec ("opus",
     * "PCMA", "PCMU", "G722"), codecOnly (offer those codecs alone, as a
     * browser without the others would; the server transcodes what the
     * stream has into them), token, record
     * (passed to the server as is; this server version does not record). */
    createStream(options) {
      if (!options || !options.name) throw new Error("createStream needs a name");
      const st = new Stream(this, options);
      return st;
    }

    disconnect() {
      for (const st of this._streams.values()) st.stop();
      clearInterval(this._ping);
      if (this._ws) this._ws.close(1000, "client disconnect");
    }
  }

  /* ------------------------------------------------------------ stream */

  class Stream extends Emitter {
    constructor(session, options) {
      super();
      this.session = session;
      this.options = options;
      this._id = "s" + nextStreamId++;
      this._status = "NEW";
      this._pc = null;
      this._local = null; // the MediaStream we publish (if we opened the camera, we close it)
      this._ownLocal = false;
      this._lastStats = null;
      this._over = false; // set once the stream ended (stopped, failed): a stream is used once
    }

    id() { return this._id; }
    name() { return this.options.name; }
    status() { return this._status; }
    peerConnection() { return this._pc; }

    async publish() {
      return this._start("publishStream", async pc => {
        let ms = this.options.mediaStream;
        if (!ms) {
          ms = await navigator.mediaDevices.getUserMedia(this.options.constraints || { audio: true, video: true });
          this._ownLocal = true;
        }
        this._local = ms;
        const display = this.options.display;
        if (display) {
          display.muted = true; // never echo our own microphone
          display.srcObject = ms;
          display.play().catch(() => {});
        }
        for (const track of ms.getTracks()) {
          const tr = pc.addTransceiver(track, { direction: "sendonly", streams: [ms] });
          this._preferCodec(tr, track.kind, "sendonly");
        }
      });
    }

    async play() {
      return this._start("playStream", async pc => {
        const remote = new MediaStream();
        pc.ontrack = ev => {
          remote.addTrack(ev.track);
          const display = this.options.display;
          if (display && display.srcObject !== remote) {
            display.srcObject = remote;
            display.play().catch(e => console.warn("livecdn: autoplay refused:", e.message));
          }
        };
        for (const kind of ["audio", "video"]) {
          const tr = pc.addTransceiver(kind, { direction: "recvonly" });
          this._preferCodec(tr, kind, "recvonly");
        }
      });
    }

    _preferCodec(transceiver, kind, direction) {
      const codec = kind === "video" ? this.options.codec : this.options.audioCodec;
      if (!codec || !transceiver.setCodecPreferences) return;
      const prefs = preferredCodecs(kind, codec, direction, this.options.codecOnly);
      if (!prefs) throw new Error("This browser cannot " + (direction === "sendonly" ? "send " : "receive ") + codec);
      transceiver.setCodecPreferences(prefs);
    }

    /* Shared by publish and play: peer connection, offer, gathering, request. */
    async _start(method, addMedia) {
      if (this._pc || this._over) throw new Error("stream " + this.name() + " was already started; create a new one");
      if (this.session.status() !== "ESTABLISHED") {
        return this._fail("The session is not established (" + this.session.status() + ")");
      }
      this._method = method;
      this._status = "PENDING";
      this.session._streams.set(this._id, this);
      const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle", rtcpMuxPolicy: "require" });
      this._pc = pc;
      pc.onconnectionstatechange = () => {
        if (pc.connectionState === "failed" && this._pc === pc) {
          this.session._send({ method: "stopStream", id: this._id });
          this._ended("FAILED", "WebRTC connection failed (ICE or DTLS)");
        }
      };
      try {
        await addMedia(pc);
        await pc.setLocalDescription(await pc.createOffer());
        await waitGathering(pc);
      } catch (e) {
        return this._fail(e.message || String(e));
      }
      if (this._pc !== pc) return this; // stopped meanwhile
      const msg = { method, id: this._id, name: this.name(), sdp: pc.localDescription.sdp };
      for (const k of ["token", "channel", "uid", "record"]) {
        if (this.options[k] !== undefined) msg[k] = this.options[k];
      }
      if (!this.session._send(msg)) return this._fail("The signaling connection is closed");
      return this;
    }

    async _onEvent(ev) {
      if (ev.sdp && this._pc && !this._pc.currentRemoteDescription) {
        try {
          await this._pc.setRemoteDescription({ type: "answer", sdp: ev.sdp });
        } catch (e) {
          this.session._send({ method: "stopStream", id: this._id });
          return this._ended("FAILED", "Cannot apply the server's answer: " + e.message);
        }
      }
      if (ev.status === "FAILED" || ev.status === "STOPPED" || ev.status === "UNPUBLISHED") {
        return this._ended(ev.status, ev.info, ev);
      }
      this._status = ev.status;
      this._emit(ev.status, ev);
    }

    /* The stream is over: close everything we opened, then tell the page once. */
    _ended(status, info, ev) {
      if (this._over) return this;
      this._over = true;
      this.session._streams.delete(this._id);
      if (this._pc) {
        this._pc.close();
        this._pc = null;
      }
      if (this._local && this._ownLocal) for (const t of this._local.getTracks()) t.stop();
      this._local = null;
      const display = this.options.display;
      if (display) display.srcObject = null;
      this._status = status;
      this._emit(status, Object.assign({ id: this._id, name: this.name(), status }, info ? { info } : {}, ev || {}));
      return this;
    }

    _fail(info) {
      return this._ended("FAILED", info);
    }

    stop() {
      if (!this._pc) return this;
      this.session._send({ method: "stopStream", id: this._id });
      const status = this._method === "publishStream" ? "UNPUBLISHED" : "STOPPED";
      return this._ended(status, "Stopped by the client");
    }

    /* A summary of the stream's inbound (play) or outbound (publish) RTP:
     * {video: {codec, frames, framesDecoded|framesEncoded, width, height, bytes,
     * kbps, packetsLost}, audio: {codec, bytes, packets, samples, level, kbps, ...},
     * report}. kbps is measured since the
     * previous call. Resolves to null once the stream is over. */
    async getStats() {
      if (!this._pc) return null;
      const report = await this._pc.getStats();
      const dir = this._method === "playStream" ? "inbound-rtp" : "outbound-rtp";
      const out = { report, time: performance.now() };
      const codecs = {};
      report.forEach(s => {
        if (s.type === "codec") codecs[s.id] = s.mimeType;
      });
      report.forEach(s => {
        if (s.type !== dir || !s.kind) return;
        const prev = out[s.kind];
        if (prev && prev.bytes > (s.bytesReceived || s.bytesSent || 0)) return; // keep the busiest layer
        const r = {
          codec: (codecs[s.codecId] || "").replace(/^(audio|video)\//, ""),
          bytes: s.bytesReceived !== undefined ? s.bytesReceived : s.bytesSent || 0,
          packets: s.packetsReceived !== undefined ? s.packetsReceived : s.packetsSent || 0,
          packetsLost: s.packetsLost || 0,
        };
        if (s.kind === "video") {
          r.framesDecoded = s.framesDecoded;
          r.framesEncoded = s.framesEncoded;
          r.frames = (s.framesDecoded !== undefined ? s.framesDecoded : s.framesEncoded) || 0;
          r.width = s.frameWidth || 0;
          r.height = s.frameHeight || 0;
          r.fps = s.framesPerSecond || 0;
        } else {
          r.samples = s.totalSamplesReceived || 0; // decoded audio: it grows while sound plays
          r.level = s.audioLevel || 0;
        }
        out[s.kind] = r;
      });
      const last = this._lastStats;
      for (const kind of ["audio", "video"]) {
        if (!out[kind]) continue;
        const was = last && last[kind];
        const secs = last ? (out.time - last.time) / 1000 : 0;
        out[kind].kbps = was && secs > 0 ? Math.round((8 * (out[kind].bytes - was.bytes)) / secs / 1000) : 0;
      }
      this._lastStats = out;
      return out;
    }
  }

  /* ------------------------------------------------------------ channel flow (stubs) */

  /* The channel flow of the live-transcoding model (SPEC 7, 8): createClient,
   * init, join, publish, setLiveTranscoding, startLiveStreaming... The server
   * does not offer live transcoding yet ("Live transcoding is not available in
   * this version of livecdn"), so every call here rejects with that reason
   * rather than pretending to work. */
  const NOT_YET = "livecdn: the channel / live-transcoding API is not available yet";

  function notYet() {
    return Promise.reject(new Error(NOT_YET));
  }

  function createClient() {
    return {
      init: notYet,
      join: notYet,
      publish: notYet,
      unpublish: notYet,
      setLiveTranscoding: notYet,
      startLiveStreaming: notYet,
      stopLiveStreaming: notYet,
      leave: notYet,
    };
  }

  global.livecdn = {
    version: "1",
    checkSystemRequirements,
    missingFeatures,
    createSession: options => new Session(options),
    createClient,
    createStream() {
      throw new Error(NOT_YET + " (use session.createStream)");
    },
    /* for pages: the ws:// URL of this page's host, or ?ws=... */
    defaultUrl(port) {
      const q = new URLSearchParams(global.location.search).get("ws");
      if (q) return q;
      const scheme = global.location.protocol === "https:" ? "wss:" : "ws:";
      return scheme + "//" + (global.location.hostname || "localhost") + ":" + (port || 8080) + "/";
    },
  };
})(typeof window !== "undefined" ? window : globalThis);
