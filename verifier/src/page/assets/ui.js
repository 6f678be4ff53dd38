// dojang's pages (verifier, console, wallet, home) share this script: the language and its
// texts, calls to the page's API, busy buttons, claim rows, and reading QR codes with the
// vendored `jsQR` decoder (camera frames or a photo), which works where `BarcodeDetector` does
// not. Plain ES2020, no modules: it attaches `window.dojang`.
(function () {
  "use strict";

  // Texts every page uses; a page's own dictionary, given to `init`, is read first.
  const COMMON = {
    ko: {
      unreachable: "이 페이지의 서버에 연결할 수 없습니다. 네트워크를 확인하세요.",
      server_error: "서버가 요청을 처리하지 못했습니다 (HTTP {status}).",
      yes: "예",
      no: "아니요",
      empty_value: "—",
      working: "처리 중…",
      camera_stop: "카메라 끄기",
      camera_looking: "QR 코드를 카메라 화면 가운데에 비춰 주세요…",
      camera_insecure:
        "카메라는 HTTPS 주소에서만 켤 수 있습니다. `dojang up --tls`로 연 주소를 쓰거나, QR 코드 사진을 올리세요.",
      camera_denied:
        "카메라 사용이 허용되지 않았습니다. 브라우저 설정에서 이 사이트의 카메라를 허용하거나, QR 코드 사진을 올리세요.",
      camera_none: "이 기기에서 쓸 수 있는 카메라가 없습니다. QR 코드 사진을 올리거나 내용을 붙여 넣으세요.",
      camera_failed: "카메라를 켜지 못했습니다 ({detail}). QR 코드 사진을 올리거나 내용을 붙여 넣으세요.",
      decoder_missing: "QR 코드 해독기를 불러오지 못했습니다. 페이지를 새로 고치세요.",
      qr_not_found:
        "사진에서 QR 코드를 찾지 못했습니다. QR 코드가 사진에 크고 선명하게 나오도록 다시 찍어 주세요.",
      image_unreadable: "이 파일을 이미지로 읽을 수 없습니다. PNG나 JPEG 사진을 올리세요.",
      sec: "{n}초",
      min: "{n}분",
      hour: "{n}시간",
      day: "{n}일",
    },
    en: {
      unreachable: "Cannot reach this page's server. Check the network.",
      server_error: "The server could not handle the request (HTTP {status}).",
      yes: "Yes",
      no: "No",
      empty_value: "—",
      working: "Working…",
      camera_stop: "Stop the camera",
      camera_looking: "Hold the QR code in the middle of the camera view…",
      camera_insecure:
        "A camera only opens on an HTTPS address: use the address `dojang up --tls` prints, or upload a photo of the QR code.",
      camera_denied:
        "The camera is not allowed. Allow it for this site in the browser's settings, or upload a photo of the QR code.",
      camera_none: "This device has no camera to use. Upload a photo of the QR code or paste what it says.",
      camera_failed: "The camera did not start ({detail}). Upload a photo of the QR code or paste what it says.",
      decoder_missing: "The QR decoder did not load. Reload the page.",
      qr_not_found:
        "No QR code found in the photo. Take it again with the code large and sharp in the picture.",
      image_unreadable: "This file cannot be read as an image. Upload a PNG or JPEG photo.",
      sec: "{n} s",
      min: "{n} min",
      hour: "{n} h",
      day: "{n} days",
    },
  };

  let lang = "ko";
  let pageDict = { ko: {}, en: {} };

  function storedLang() {
    try {
      return localStorage.getItem("dojang.lang");
    } catch (_) {
      return null;
    }
  }

  function normalise(tag) {
    return String(tag || "").toLowerCase().startsWith("en") ? "en" : "ko";
  }

  /// The page's language: `?lang=`, then the last choice, then what the server negotiated.
  function chooseLang() {
    const asked = new URLSearchParams(location.search).get("lang");
    return normalise(asked || storedLang() || document.documentElement.lang || "ko");
  }

  /// `key`'s text in the page's language, `{name}`s filled from `vars`.
  function t(key, vars) {
    const sources = [pageDict[lang], COMMON[lang], pageDict.en, COMMON.en];
    let text = key;
    for (const source of sources) {
      if (source && Object.prototype.hasOwnProperty.call(source, key)) {
        text = source[key];
        break;
      }
    }
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (whole, name) =>
        Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole,
      );
    }
    return text;
  }

  /// Fills `data-t` (text), `data-t-placeholder`, `data-t-aria-label` and `data-t-title`.
  function translate(root) {
    const scope = root || document;
    for (const el of scope.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    for (const el of scope.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
    for (const el of scope.querySelectorAll("[data-t-aria-label]")) el.setAttribute("aria-label", t(el.dataset.tAriaLabel));
    for (const el of scope.querySelectorAll("[data-t-title]")) el.title = t(el.dataset.tTitle);
  }

  function linkLanguageSwitch() {
    for (const a of document.querySelectorAll("nav.lang-switch a[hreflang]")) {
      const target = normalise(a.getAttribute("hreflang"));
      const update = () => {
        const query = new URLSearchParams(location.search);
        query.set("lang", target);
        a.href = "?" + query.toString() + location.hash;
      };
      update();
      window.addEventListener("hashchange", update);
      if (target === lang) a.setAttribute("aria-current", "true");
      else a.removeAttribute("aria-current");
      a.addEventListener("click", () => {
        try {
          localStorage.setItem("dojang.lang", target);
        } catch (_) {
          /* private browsing: the query still carries the choice */
        }
      });
    }
  }

  /// Picks the language, fills the page's texts; returns the language.
  function init(dictionary) {
    pageDict = dictionary || { ko: {}, en: {} };
    lang = chooseLang();
    document.documentElement.lang = lang;
    try {
      localStorage.setItem("dojang.lang", lang);
    } catch (_) {
      /* nothing to remember it in */
    }
    translate(document);
    linkLanguageSwitch();
    return lang;
  }

  // ---- calls to the page's API ----

  function isRawBody(body) {
    return (
      typeof body === "string" ||
      body instanceof ArrayBuffer ||
      ArrayBuffer.isView(body) ||
      (typeof Blob !== "undefined" && body instanceof Blob)
    );
  }

  /// Calls the API at `path` (relative to the page). A JSON object body is sent as JSON, bytes
  /// or text as they are. An error answer throws an Error carrying the server's `message` (in
  /// the page's language), `.code` and `.fields`; no answer at all throws the "cannot reach"
  /// message.
  async function api(method, path, body, options) {
    const opts = options || {};
    const headers = { "Accept-Language": lang, Accept: "application/json" };
    if (opts.token) headers.Authorization = "Bearer " + opts.token;
    let payload;
    if (body !== undefined && body !== null) {
      if (isRawBody(body)) {
        payload = body;
      } else {
        payload = JSON.stringify(body);
        headers["Content-Type"] = "application/json";
      }
    }
    let response;
    let text;
    try {
      response = await fetch(path, { method, headers, body: payload, cache: "no-store", credentials: "same-origin" });
      text = await response.text();
    } catch (cause) {
      const error = new Error(t("unreachable"));
      error.code = "unreachable";
      error.cause = cause;
      throw error;
    }
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    if (!response.ok) {
      const said = json && typeof json === "object" ? json : {};
      // An older server put its sentence in `error`; a stable code is one lowercase word.
      const legacy = typeof said.error === "string" && !/^[a-z0-9_]+$/.test(said.error) ? said.error : null;
      const error = new Error(said.message || legacy || t("server_error", { status: response.status }));
      error.code = typeof said.error === "string" && !legacy ? said.error : "http_" + response.status;
      error.fields = Array.isArray(said.fields) ? said.fields : [];
      error.status = response.status;
      throw error;
    }
    return json;
  }

  /// Runs `work` with `button` disabled, showing a spinner and `aria-busy`; a second press
  /// while it runs does nothing (no double submissions). Returns what `work` returns.
  async function busy(button, work) {
    if (!button) return work();
    if (button.dataset.busy === "true") return undefined;
    button.dataset.busy = "true";
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    const spinner = document.createElement("span");
    spinner.className = "spinner";
    spinner.setAttribute("aria-hidden", "true");
    button.prepend(spinner);
    try {
      return await work();
    } finally {
      spinner.remove();
      button.disabled = false;
      button.removeAttribute("aria-busy");
      delete button.dataset.busy;
    }
  }

  // ---- formatting ----

  function locale() {
    return lang === "ko" ? "ko-KR" : "en-GB";
  }

  /// A date (`1994-03-15`), a date-time (`2026-01-02T03:04:05Z`) or Unix seconds, in the
  /// page's language. `kind` is "date" or "datetime".
  function formatDate(value, kind) {
    if (value === null || value === undefined || value === "") return t("empty_value");
    if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
      const [y, m, d] = value.split("-").map(Number);
      const date = new Date(Date.UTC(y, m - 1, d));
      if (isNaN(date)) return value;
      return new Intl.DateTimeFormat(locale(), { dateStyle: "long", timeZone: "UTC" }).format(date);
    }
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (isNaN(date)) return String(value);
    const style = kind === "date" ? { dateStyle: "long" } : { dateStyle: "long", timeStyle: "short" };
    return new Intl.DateTimeFormat(locale(), style).format(date);
  }

  function formatBool(value) {
    return value ? t("yes") : t("no");
  }

  /// A claim row's value as a person reads it.
  function formatValue(value, kind) {
    if (value === null || value === undefined || value === "") return t("empty_value");
    if (kind === "boolean" || typeof value === "boolean") return formatBool(value);
    if (kind === "date") return formatDate(value, "date");
    if (kind === "datetime") return formatDate(value, "datetime");
    if (kind === "number" || typeof value === "number") return Number(value).toLocaleString(locale());
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /// Rows from a plain claims object, for an answer that carries no rows: every nested value
  /// becomes a row labelled by its path (never raw JSON).
  function rowsFromClaims(claims) {
    const rows = [];
    const walk = (value, path) => {
      if (value !== null && typeof value === "object") {
        const entries = Array.isArray(value) ? value.map((v, i) => [String(i + 1), v]) : Object.entries(value);
        if (entries.length === 0) rows.push({ path, label: path.join(" › "), value: t("empty_value"), kind: "text" });
        for (const [key, inner] of entries) walk(inner, path.concat(key));
        return;
      }
      let kind = "text";
      if (typeof value === "boolean") kind = "boolean";
      else if (typeof value === "number") kind = "number";
      else if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) kind = "date";
      else if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) kind = "datetime";
      rows.push({ path, label: path.join(" › "), value, kind });
    };
    for (const [key, value] of Object.entries(claims || {})) walk(value, [key]);
    return rows;
  }

  function valueCell(row) {
    const dd = document.createElement("dd");
    dd.dataset.kind = row.kind || "text";
    const text = formatValue(row.value, row.kind);
    if ((row.kind === "date" || row.kind === "datetime") && row.value) {
      const time = document.createElement("time");
      time.dateTime = typeof row.value === "number" ? new Date(row.value * 1000).toISOString() : String(row.value);
      time.textContent = text;
      dd.appendChild(time);
    } else {
      dd.textContent = text;
    }
    return dd;
  }

  function rowItem(label, row) {
    const div = document.createElement("div");
    div.dataset.path = (row.path || []).join(".");
    const dt = document.createElement("dt");
    dt.textContent = label;
    div.append(dt, valueCell(row));
    return div;
  }

  /// Claim rows (`{path, label, value, kind}`) as a definition list, rows sharing `path[0]`
  /// grouped under the group's label. The labels come localized from the server; values are
  /// formatted in `language` (the page's language when left out).
  function renderClaimRows(container, rows, language) {
    const before = lang;
    if (language) lang = normalise(language);
    try {
      return renderRows(container, rows);
    } finally {
      lang = before;
    }
  }

  function renderRows(container, rows) {
    container.textContent = "";
    if (!rows || rows.length === 0) return container;
    const dl = document.createElement("dl");
    dl.className = "claims";
    let i = 0;
    while (i < rows.length) {
      const key = rows[i].path && rows[i].path.length ? String(rows[i].path[0]) : String(i);
      const group = [];
      while (i < rows.length && (rows[i].path && rows[i].path.length ? String(rows[i].path[0]) : String(i)) === key) {
        group.push(rows[i]);
        i += 1;
      }
      const only = group[0];
      if (group.length === 1 && (!only.path || only.path.length <= 1)) {
        dl.appendChild(rowItem(only.label, only));
        continue;
      }
      // The group's label is the first part of its rows' labels ("주소 › 시·군·구" → "주소").
      const parts = String(only.label || key).split(" › ");
      const div = document.createElement("div");
      div.dataset.path = key;
      div.className = "claim-group";
      const dt = document.createElement("dt");
      dt.textContent = parts.length > 1 ? parts[0] : key;
      const dd = document.createElement("dd");
      const inner = document.createElement("dl");
      for (const row of group) {
        const labelParts = String(row.label || "").split(" › ");
        const label = labelParts.length > 1 ? labelParts.slice(1).join(" › ") : row.label;
        inner.appendChild(rowItem(label, row));
      }
      dd.appendChild(inner);
      div.append(dt, dd);
      dl.appendChild(div);
    }
    container.appendChild(dl);
    return container;
  }

  /// "45 s", "3분": how long `secs` is, roughly.
  function duration(secs) {
    const s = Math.max(0, Math.round(secs));
    if (s < 120) return t("sec", { n: s });
    if (s < 7200) return t("min", { n: Math.round(s / 60) });
    if (s < 172800) return t("hour", { n: Math.round(s / 3600) });
    return t("day", { n: Math.round(s / 86400) });
  }

  // ---- QR codes ----

  function decoder() {
    if (typeof window.jsQR !== "function") throw new Error(t("decoder_missing"));
    return window.jsQR;
  }

  function cameraError(e) {
    const name = e && e.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return t("camera_denied");
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") return t("camera_none");
    return t("camera_failed", { detail: (e && (e.message || e.name)) || "?" });
  }

  /// Opens the back camera into `video` and reads each frame with jsQR; the first code found
  /// stops the camera and goes to `onText`. Returns `{stop}`; throws a message a person can act
  /// on when there is no camera or it is refused.
  async function scanCamera(video, onText) {
    const jsQR = decoder();
    if (!window.isSecureContext) throw new Error(t("camera_insecure"));
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error(t("camera_none"));
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      throw new Error(cameraError(e));
    }
    video.setAttribute("playsinline", "");
    video.muted = true;
    video.srcObject = stream;
    video.hidden = false;
    try {
      await video.play();
    } catch (_) {
      /* autoplay of a muted video is allowed; frames are read from readyState anyway */
    }
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    let stopped = false;
    let frame = 0;
    let timer = 0;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      cancelAnimationFrame(timer);
      clearTimeout(timer);
      for (const track of stream.getTracks()) track.stop();
      video.srcObject = null;
      video.hidden = true;
    };
    const next = () => {
      if (stopped) return;
      // Hidden tabs get no animation frames.
      timer = document.hidden ? setTimeout(tick, 200) : requestAnimationFrame(tick);
    };
    const tick = () => {
      if (stopped) return;
      if (video.readyState >= 2 && video.videoWidth > 0) {
        const scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
        const w = Math.max(1, Math.round(video.videoWidth * scale));
        const h = Math.max(1, Math.round(video.videoHeight * scale));
        if (canvas.width !== w || canvas.height !== h) {
          canvas.width = w;
          canvas.height = h;
        }
        context.drawImage(video, 0, 0, w, h);
        const image = context.getImageData(0, 0, w, h);
        // Dark-on-light every frame; light-on-dark (a phone in dark mode) every other one.
        frame += 1;
        const code = jsQR(image.data, w, h, { inversionAttempts: frame % 2 ? "dontInvert" : "onlyInvert" });
        if (code && code.data) {
          stop();
          onText(code.data);
          return;
        }
      }
      next();
    };
    next();
    return { stop };
  }

  function loadImage(file) {
    if (typeof createImageBitmap === "function") return createImageBitmap(file);
    return new Promise((resolve, reject) => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      img.onload = () => {
        URL.revokeObjectURL(url);
        resolve(img);
      };
      img.onerror = () => {
        URL.revokeObjectURL(url);
        reject(new Error("image"));
      };
      img.src = url;
    });
  }

  /// The text of the QR code in an image file (a photo or screenshot), read with jsQR.
  async function decodeImageFile(file) {
    const jsQR = decoder();
    let image;
    try {
      image = await loadImage(file);
    } catch (_) {
      throw new Error(t("image_unreadable"));
    }
    const width = image.width;
    const height = image.height;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    // Full size first (capped), then smaller: a big photo's noise can hide the finder patterns.
    for (const side of [2000, 1000, 600]) {
      const scale = Math.min(1, side / Math.max(width, height));
      const w = Math.max(1, Math.round(width * scale));
      const h = Math.max(1, Math.round(height * scale));
      canvas.width = w;
      canvas.height = h;
      context.fillStyle = "#fff";
      context.fillRect(0, 0, w, h);
      context.drawImage(image, 0, 0, w, h);
      const data = context.getImageData(0, 0, w, h);
      const code = jsQR(data.data, w, h, { inversionAttempts: "attemptBoth" });
      if (code && code.data) return code.data;
      if (scale === 1 && side === 2000 && Math.max(width, height) <= 1000) break;
    }
    throw new Error(t("qr_not_found"));
  }

  // ---- small DOM helpers ----

  /// `el("button", {class: "primary", text: "…", onclick: f}, child…)`.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /// Sets `target`'s text, `code` in backticks shown as code (messages name commands).
  function setText(target, text) {
    target.textContent = "";
    String(text || "")
      .split("`")
      .forEach((part, i) => {
        if (!part) return;
        if (i % 2) {
          const code = document.createElement("code");
          code.textContent = part;
          target.appendChild(code);
        } else {
          target.appendChild(document.createTextNode(part));
        }
      });
  }

  /// Shows `text` in a message element (`kind`: "error", "ok", "info", "warn"; empty hides it).
  function say(target, text, kind) {
    if (!target) return;
    setText(target, text);
    target.classList.remove("error", "ok", "info", "warn");
    if (text) target.classList.add(kind || "info");
    target.dataset.kind = text ? kind || "info" : "";
  }

  /// The demo token a page was opened with (`#token=…`).
  function token() {
    return new URLSearchParams(location.hash.slice(1)).get("token") || "";
  }

  window.dojang = {
    init,
    t,
    translate,
    get lang() {
      return lang;
    },
    api,
    busy,
    formatDate,
    formatBool,
    formatValue,
    duration,
    rowsFromClaims,
    renderClaimRows,
    scanCamera,
    decodeImageFile,
    el,
    setText,
    say,
    token,
  };
})();
