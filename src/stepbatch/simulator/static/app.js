/* Percenty back-office simulator: the SPA shell, product list, group modal, edit drawer and image editor.
   Plain DOM code that reproduces the Ant Design / CKEditor markup documented in percenty-dom.md. */
"use strict";
(function () {
  const CFG = window.SIM_CONFIG || {};
  const CSS_HASH = "css-1li46mu";

  // ---- ids and classes regenerated per render, like the real site --------------------------------------
  let uidCounter = 1 + Math.floor(Math.random() * 40);
  const uid = () => uidCounter++;
  const rid = () => ":r" + uid().toString(36) + ":";
  const menuUuid = 10000 + Math.floor(Math.random() * 89999);
  function sc(name) {  // styled-components pair `sc-xxxxx yyyyyy`, different per server "build"
    let h = 2166136261;
    for (const ch of CFG.build + name) { h ^= ch.charCodeAt(0); h = Math.imul(h, 16777619) >>> 0; }
    const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let a = "", b = "";
    for (let i = 0; i < 6; i++) { a += letters[(h >>> (i * 3)) % 52]; b += letters[(h >>> (i * 2 + 1)) % 52]; }
    return "sc-" + a.slice(0, 5) + " " + b;
  }
  // The same styled component with other props: the component class stays, the style class changes.
  function scVariant(name, variant) { return sc(name).split(" ")[0] + " " + sc(name + "/" + variant).split(" ")[1]; }

  // ---- tiny DOM helpers --------------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "style") el.style.cssText = v;
      else if (k === "text") el.textContent = v;
      else if (k === "value") el.value = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(3)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const ICON_PATHS = {
    down: "M884 256h-75c-5 0-10 3-13 7L512 655 228 263c-3-4-8-7-13-7h-75c-6 0-10 7-6 13l356 491c13 18 39 18 52 0l356-491c4-6 0-13-6-13z",
    close: "M563 512l262-312c4-5 1-13-6-13h-80c-5 0-9 2-12 6L512 442 297 193c-3-4-7-6-12-6h-80c-7 0-10 8-6 13l262 312-262 312c-4 5-1 13 6 13h80c5 0 9-2 12-6l215-249 215 249c3 4 7 6 12 6h80c7 0 10-8 6-13z",
    search: "M909 850L649 590c40-52 62-115 62-182 0-80-31-155-88-212S491 108 411 108s-155 31-212 88-88 132-88 212 31 155 88 212 132 88 212 88c67 0 130-22 182-62l260 260a8 8 0 0011 0l45-45a8 8 0 000-11z",
    form: "M904 512h-56c-4 0-8 4-8 8v320H184V184h320c4 0 8-4 8-8v-56c0-4-4-8-8-8H144c-18 0-32 14-32 32v736c0 18 14 32 32 32h736c18 0 32-14 32-32V520c0-4-4-8-8-8z",
    edit: "M257 778c2 0 4 0 6-1l168-29c2 0 4-1 5-3l424-424a10 10 0 000-14L694 141c-2-2-4-3-7-3s-5 1-7 3L256 565c-2 2-3 3-3 5l-29 168a33 33 0 009 30c6 6 15 10 24 10z",
    reload: "M909 143l-48 37C795 96 694 42 580 42 384 42 225 200 224 396c0 196 159 355 356 355 153 0 284-97 333-233 1-4-1-8-5-9l-57-19a8 8 0 00-10 5l-2 5c-15 40-37 77-67 107a285 285 0 01-202 84 286 286 0 01-264-175z",
    thunderbolt: "M848 359H608l72-279c2-8-4-16-12-16H328c-6 0-11 4-12 10L212 546c-2 8 4 15 12 15h204l-62 298c-2 8 8 14 14 8l476-495c6-6 2-13-8-13z",
    loading: "M988 548c-19 0-34-15-34-34 0-60-12-118-35-172a440 440 0 00-94-140 437 437 0 00-312-129c-19 0-34-15-34-34s15-34 34-34c69 0 136 14 199 40 61 26 116 63 163 110s84 102 110 163c27 63 40 130 40 199 1 19-14 34-33 34z",
    "info-circle": "M512 64C265 64 64 265 64 512s201 448 448 448 448-201 448-448S759 64 512 64zm32 664c0 4-4 8-8 8h-48c-4 0-8-4-8-8V456c0-4 4-8 8-8h48c4 0 8 4 8 8v272zm-32-344a48 48 0 010-96 48 48 0 010 96z",
  };
  function icon(name, extra) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "64 64 896 896");
    svg.setAttribute("width", "1em"); svg.setAttribute("height", "1em");
    svg.setAttribute("fill", "currentColor"); svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICON_PATHS[name] || ICON_PATHS["info-circle"]);
    svg.append(path);
    return h("span", {role: "img", "aria-label": name, class: `anticon anticon-${name}${extra ? " " + extra : ""}`}, svg);
  }
  function button(label, opts) {
    opts = opts || {};
    const cls = ["ant-btn", CSS_HASH, opts.primary ? "ant-btn-primary ant-btn-color-primary ant-btn-variant-solid"
      : "ant-btn-default ant-btn-color-default ant-btn-variant-outlined", opts.size ? "ant-btn-" + opts.size : "",
      opts.cls || ""].filter(Boolean).join(" ");
    return h("button", {type: opts.type || "button", class: cls, disabled: opts.disabled, id: opts.id,
      onclick: opts.onclick}, opts.icon ? h("span", {class: "ant-btn-icon"}, icon(opts.icon)) : null,
      label ? h("span", {text: label}) : null);
  }
  function checkbox(opts) {
    const input = h("input", {type: "checkbox", class: "ant-checkbox-input", "aria-label": opts.ariaLabel});
    input.checked = !!opts.checked;
    const span = h("span", {class: `ant-checkbox ant-wave-target ${CSS_HASH}`}, input, h("span", {class: "ant-checkbox-inner"}));
    const label = h("label", {class: `ant-checkbox-wrapper ${CSS_HASH}`}, span, opts.text ? h("span", {text: opts.text}) : null);
    const sync = () => {
      span.classList.toggle("ant-checkbox-checked", input.checked);
      label.classList.toggle("ant-checkbox-wrapper-checked", input.checked);
      span.classList.toggle("ant-checkbox-indeterminate", !!input.indeterminate && !input.checked);
    };
    if (opts.disabled) { input.disabled = true; label.classList.add("ant-checkbox-wrapper-disabled"); span.classList.add("ant-checkbox-disabled"); }
    input.addEventListener("change", () => { sync(); if (opts.onchange) opts.onchange(input.checked); });
    sync();
    label.sync = sync;
    label.input = input;
    return label;
  }

  // ---- memory-leak fault: long SPA sessions retain garbage ---------------------------------------------
  const LEAK = [];
  function leak() {
    const mb = Number(CFG.leakMbPerAction || 0);
    if (!mb) return;
    const n = Math.floor(mb * 1024 * 1024 / 8);
    const arr = new Array(n);
    for (let i = 0; i < n; i++) arr[i] = i + 0.5;
    const ghost = document.createElement("div");
    for (let i = 0; i < 40; i++) ghost.append(document.createElement("span"));
    LEAK.push(arr, ghost);
  }

  // ---- API ----------------------------------------------------------------------------------------------
  class ApiError extends Error {}
  async function api(path, body) {
    leak();
    const res = await fetch(path, body === undefined ? {credentials: "same-origin"} : {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)});
    if (res.status === 401) {
      location.href = "/signin";
      throw new ApiError("session_expired");
    }
    if (res.status >= 500) {
      message("error", "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.");
      throw new ApiError("server_error");
    }
    const data = await res.json();
    if (!res.ok) {
      message("error", "요청을 처리하지 못했습니다.");
      throw new ApiError(data.error || "error");
    }
    return data;
  }
  async function action(path, body) {  // a user action: may be followed by a marketing popup
    const data = await api(path, body);
    if (CFG.popupRate && Math.random() < CFG.popupRate) setTimeout(() => showPopup("event"), 50);
    return data;
  }

  // ---- ant-message ----------------------------------------------------------------------------------------
  let messageHolder = null;
  function message(type, text) {
    if (!messageHolder || !messageHolder.isConnected) {
      messageHolder = h("div", {class: `ant-message ${CSS_HASH}`, style: "top: 8px;"});
      document.body.append(h("div", {}, messageHolder));
    }
    const iconName = {success: "info-circle", error: "close", warning: "info-circle", info: "info-circle"}[type];
    const notice = h("div", {class: "ant-message-notice-wrapper"},
      h("div", {class: `ant-message-notice ant-message-notice-${type}`},
        h("div", {class: "ant-message-notice-content"},
          h("div", {class: `ant-message-custom-content ant-message-${type}`}, icon(iconName), h("span", {text})))));
    messageHolder.append(notice);
    setTimeout(() => notice.remove(), 3000);
  }

  // ---- layers (modals/drawers) and ESC ------------------------------------------------------------------
  const layers = [];
  function pushLayer(layer) { layers.push(layer); return layer; }
  function dropLayer(layer) { const i = layers.indexOf(layer); if (i >= 0) layers.splice(i, 1); }
  function topLayer() { return layers[layers.length - 1]; }
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      if (openSelect) { openSelect.close(); return; }
      const top = topLayer();
      if (top && top.esc !== false) { ev.preventDefault(); top.close(); }
      return;
    }
    const top = topLayer();
    if (top && top.onkey) top.onkey(ev);
  });

  function modal({title, body, footer, width, cls, onclose, closable}) {
    const titleId = rid();
    const root = h("div", {class: `ant-modal-root ${CSS_HASH}`});
    const content = h("div", {class: "ant-modal-content"},
      closable === false ? null : h("button", {type: "button", "aria-label": "Close", class: "ant-modal-close", onclick: () => layer.close()},
        h("span", {class: "ant-modal-close-x"}, icon("close", "ant-modal-close-icon"))),
      title ? h("div", {class: "ant-modal-header"}, h("div", {class: "ant-modal-title", id: titleId},
        h("div", {class: `ant-row ant-row-middle ${CSS_HASH}`}, h("div", {class: `ant-col ${CSS_HASH}`},
          h("span", {class: `${sc("text")} H5Medium16 CharacterTitle85`, text: title}))))) : null,
      h("div", {class: "ant-modal-body"}, body),
      footer ? h("div", {class: "ant-modal-footer"}, footer) : null);
    const sentinel = () => h("div", {tabindex: "0", "aria-hidden": "true", style: "width:0;height:0;overflow:hidden;outline:none"});
    const dialog = h("div", {role: "dialog", "aria-labelledby": title ? titleId : null, "aria-modal": "true",
      class: `ant-modal ${CSS_HASH} ${cls || ""}`, style: `width: ${width || 520}px;`}, sentinel(), content, sentinel());
    const z = 1000 + layers.length * 10;  // a popup opened later stacks above earlier layers
    const wrap = h("div", {tabindex: "-1", class: "ant-modal-wrap ant-modal-centered", style: `z-index: ${z};`}, dialog);
    root.append(h("div", {class: "ant-modal-mask", style: `z-index: ${z};`}), wrap);
    const host = h("div", {}, root);
    document.body.append(host);
    document.body.classList.add("ant-modal-open");
    const layer = pushLayer({
      el: root,
      close() {
        dropLayer(layer);
        if (!document.querySelector(".ant-modal-root .ant-modal")) document.body.classList.remove("ant-modal-open");
        root.querySelector(".ant-modal-mask").remove();
        dialog.remove();
        if (!document.querySelector(".ant-modal-root .ant-modal")) document.body.classList.remove("ant-modal-open");
        // fault: the closed modal's wrap lingers and intercepts clicks for a while
        const linger = Number(CFG.lingerModalMs || 0);
        if (linger > 0) setTimeout(() => host.remove(), linger); else host.remove();
        if (onclose) onclose();
      },
    });
    return layer;
  }

  // ---- Select (antd v5 markup, virtual option list) ------------------------------------------------------
  let openSelect = null;
  document.addEventListener("mousedown", (ev) => {
    if (openSelect && !openSelect.el.contains(ev.target) && !(openSelect.dropdown && openSelect.dropdown.contains(ev.target))) openSelect.close();
  }, true);
  const ITEM_H = 32, LIST_H = 256, RENDERED = 10;

  function Select(opts) {
    const n = uid();
    const listId = `rc_select_${n}_list`;
    const state = {value: opts.value, filter: "", active: 0};
    const input = h("input", {type: "search", autocomplete: "off", class: "ant-select-selection-search-input",
      role: "combobox", "aria-expanded": "false", "aria-haspopup": "listbox", "aria-owns": listId,
      "aria-autocomplete": "list", "aria-controls": listId, id: `rc_select_${n}`,
      readonly: opts.searchable ? null : true, unselectable: opts.searchable ? null : "on",
      style: opts.searchable ? null : "opacity: 0;", value: ""});
    const item = h("span", {class: "ant-select-selection-item"});
    const selector = h("div", {class: "ant-select-selector"}, h("span", {class: "ant-select-selection-search"}, input), item);
    const el = h("div", {class: ["ant-select", opts.borderless ? "ant-select-borderless" : "ant-select-outlined",
      CSS_HASH, "ant-select-single", "ant-select-show-arrow", opts.searchable ? "ant-select-show-search" : "",
      opts.cls || ""].filter(Boolean).join(" "), style: opts.width ? `width: ${opts.width}px;` : null},
    selector, h("span", {class: "ant-select-arrow", unselectable: "on", "aria-hidden": "true", style: "user-select: none;"},
      icon("down", "ant-select-suffix")));
    const api = {el, dropdown: null, get value() { return state.value; }};

    function labelOf(v) { const o = opts.options.find((x) => x.value === v); return o ? o.label : null; }
    function renderItem() {
      const label = labelOf(state.value);
      item.replaceChildren();
      if (label === null) {
        item.className = "ant-select-selection-placeholder";
        item.textContent = opts.placeholder || "";
        item.removeAttribute("title");
      } else {
        item.className = "ant-select-selection-item";
        item.title = label;
        item.textContent = label;
      }
      item.style.visibility = state.filter ? "hidden" : "";
    }
    function filtered() {
      const f = state.filter.trim().toLowerCase();
      return f ? opts.options.filter((o) => o.label.toLowerCase().includes(f)) : opts.options;
    }
    function renderOptions() {
      const d = api.dropdown;
      const list = filtered();
      const holder = d.querySelector(".rc-virtual-list-holder");
      const inner = d.querySelector(".rc-virtual-list-holder-inner");
      const filler = d.querySelector(".rc-virtual-list-filler");
      const aria = d.querySelector("[role=listbox]");
      if (!list.length) {
        inner.replaceChildren(h("div", {class: "ant-select-item-empty"}, h("div", {class: "ant-empty ant-empty-normal ant-empty-small", text: "데이터 없음"})));
        filler.style.height = ""; inner.style.transform = ""; inner.style.position = "static"; return;
      }
      const virtual = list.length * ITEM_H > LIST_H;
      const start = virtual ? Math.min(Math.floor(holder.scrollTop / ITEM_H), Math.max(list.length - RENDERED, 0)) : 0;
      const slice = virtual ? list.slice(start, start + RENDERED) : list;
      filler.style.height = virtual ? `${list.length * ITEM_H}px` : "";
      inner.style.transform = virtual ? `translateY(${start * ITEM_H}px)` : "";
      inner.style.position = virtual ? "absolute" : "static";
      inner.replaceChildren(...slice.map((o, i) => {
        const idx = start + i;
        const selected = o.value === state.value;
        const node = h("div", {"aria-selected": String(selected), title: o.label,
          class: "ant-select-item ant-select-item-option" + (idx === state.active ? " ant-select-item-option-active" : "") + (selected ? " ant-select-item-option-selected" : "")},
        h("div", {class: "ant-select-item-option-content", text: o.label}),
        h("span", {class: "ant-select-item-option-state", unselectable: "on", "aria-hidden": "true", style: "user-select: none;"}));
        node.addEventListener("mouseenter", () => { state.active = idx; });
        node.addEventListener("click", (ev) => { ev.stopPropagation(); choose(o.value); });
        return node;
      }));
      const act = list[state.active] || list[0];
      aria.replaceChildren(...[state.active - 1, state.active, state.active + 1].filter((i) => i >= 0 && i < list.length).map((i) =>
        h("div", {role: "option", id: `${listId}_${i}`, "aria-label": list[i].label, "aria-selected": String(list[i].value === state.value), text: list[i].value})));
      input.setAttribute("aria-activedescendant", `${listId}_${list.indexOf(act)}`);
    }
    function buildDropdown() {
      const holder = h("div", {class: "rc-virtual-list-holder", style: `max-height: ${LIST_H}px; overflow-y: auto; overflow-anchor: none;`},
        h("div", {class: "rc-virtual-list-filler", style: "position: relative;"},
          h("div", {class: "rc-virtual-list-holder-inner", style: "display: flex; flex-direction: column; position: absolute; left: 0; right: 0; top: 0;"})));
      holder.addEventListener("scroll", renderOptions);
      const dd = h("div", {class: `ant-select-dropdown ${CSS_HASH} ant-select-dropdown-placement-bottomLeft`,
        style: "position: absolute;"},
      h("div", {}, h("div", {role: "listbox", id: listId, style: "height: 0px; width: 0px; overflow: hidden;"}),
        h("div", {class: "rc-virtual-list", style: "position: relative;"}, holder)));
      dd.addEventListener("mousedown", (ev) => ev.preventDefault());  // keep focus in the input
      document.body.append(h("div", {style: "position: absolute; top: 0px; left: 0px; width: 100%;"}, h("div", {}, dd)));
      api.dropdown = dd;
    }
    function open() {
      if (openSelect && openSelect !== api) openSelect.close();
      if (!api.dropdown) buildDropdown();
      const r = selector.getBoundingClientRect();
      const dd = api.dropdown;
      dd.style.left = `${r.left + window.scrollX}px`;
      dd.style.top = `${r.bottom + window.scrollY + 4}px`;
      dd.style.width = `${Math.max(r.width, opts.dropdownWidth || 0)}px`;
      dd.classList.remove("ant-select-dropdown-hidden");
      el.classList.add("ant-select-open", "ant-select-focused");
      input.setAttribute("aria-expanded", "true");
      const list = filtered();
      state.active = Math.max(list.findIndex((o) => o.value === state.value), 0);
      const holder = dd.querySelector(".rc-virtual-list-holder");
      holder.scrollTop = 0;
      renderOptions();
      openSelect = api;
      input.focus();
    }
    function close() {
      if (api.dropdown) api.dropdown.classList.add("ant-select-dropdown-hidden");
      el.classList.remove("ant-select-open");
      input.setAttribute("aria-expanded", "false");
      state.filter = ""; input.value = "";
      renderItem();
      if (openSelect === api) openSelect = null;
    }
    function choose(value) {
      close();
      const changed = value !== state.value;
      state.value = value;
      renderItem();
      if (changed && opts.onchange) opts.onchange(value);
    }
    api.close = close;
    api.set = (v) => { state.value = v; renderItem(); };
    el.addEventListener("click", () => { if (openSelect === api && !opts.searchable) close(); else if (openSelect !== api) open(); });
    input.addEventListener("input", () => {
      state.filter = input.value; state.active = 0;
      if (openSelect !== api) open();
      api.dropdown.querySelector(".rc-virtual-list-holder").scrollTop = 0;
      renderItem(); renderOptions();
    });
    input.addEventListener("keydown", (ev) => {
      if (openSelect !== api) { if (ev.key === "Enter" || ev.key === "ArrowDown") { ev.preventDefault(); open(); } return; }
      const list = filtered();
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        state.active = Math.min(Math.max(state.active + (ev.key === "ArrowDown" ? 1 : -1), 0), list.length - 1);
        renderOptions();
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (list[state.active]) choose(list[state.active].value);
      }
    });
    input.addEventListener("blur", () => el.classList.remove("ant-select-focused"));
    renderItem();
    return api;
  }

  // ---- app state -----------------------------------------------------------------------------------------
  const S = {
    me: null, groups: [], screen: "dashboard",
    list: {status: "전체", group: "전체", size: 20, page: 1, order: "desc", q: "", total: 0, items: [], selected: new Set(), loading: false, seq: 0},
  };
  const GROUP_ALL = "전체", GROUP_NONE = "그룹 없음";

  // ---- shell ---------------------------------------------------------------------------------------------
  const MENU = [
    ["DASHBOARD", "대시보드"],
    ["PRODUCT", "상품 관리", [["AI_PRODUCT_SOURCING", "AI 소싱"], ["PRODUCT_REGISTER", "신규 상품 등록"],
      ["PRODUCT_MANAGE", "등록 상품 관리"], ["PRODUCT_GROUP", "그룹 상품 관리"]]],
    ["ORDER", "주문 관리"], ["MARKET_SETTING", "마켓 설정"], ["ACCOUNT_SETTING", "계정 설정"],
  ];
  let content, menuEl, creditsEl;
  function menuItem(key, label, sub) {
    return h("li", {class: "ant-menu-item" + (S.screen === key ? " ant-menu-item-selected" : ""), role: "menuitem", tabindex: "-1",
      "data-menu-id": `rc-menu-uuid-${menuUuid}-1-${key}`, style: sub ? "padding-left: 48px;" : "padding-left: 24px;",
      onclick: () => navigate(key)}, h("span", {class: "ant-menu-title-content", text: label}));
  }
  function renderMenu() {
    menuEl.replaceChildren(...MENU.map(([key, label, children]) => children
      ? h("li", {class: "ant-menu-submenu ant-menu-submenu-inline ant-menu-submenu-open", role: "none"},
        h("div", {role: "menuitem", class: "ant-menu-submenu-title", tabindex: "-1", "aria-expanded": "true",
          "data-menu-id": `rc-menu-uuid-${menuUuid}-1-${key}`, style: "padding-left: 24px;"},
        h("span", {class: "ant-menu-title-content", text: label}), h("i", {class: "ant-menu-submenu-arrow"})),
        h("ul", {class: `ant-menu ant-menu-sub ant-menu-inline ${CSS_HASH}`, role: "menu"}, children.map(([k, l]) => menuItem(k, l, true))))
      : menuItem(key, label, false)));
  }
  function renderShell() {
    menuEl = h("ul", {class: `ant-menu ant-menu-root ant-menu-inline ant-menu-light ${CSS_HASH}`, role: "menu", tabindex: "0", "data-menu-list": "true"});
    creditsEl = h("span", {class: "Body3Regular14 credits"});
    content = h("main", {class: `ant-layout-content ${CSS_HASH}`});
    const root = document.getElementById("root");
    root.replaceChildren(h("div", {class: `ant-app ${CSS_HASH}`},
      h("div", {class: `ant-layout ant-layout-has-sider ${CSS_HASH}`},
        h("aside", {class: `ant-layout-sider ant-layout-sider-light ${sc("sider")}`, style: "flex: 0 0 220px; max-width: 220px; min-width: 220px; width: 220px;"},
          h("div", {class: "ant-layout-sider-children"},
            h("div", {class: "logo"}, h("span", {class: "logo-mark", text: "%"}), " percenty"), menuEl)),
        h("div", {class: `ant-layout ${CSS_HASH}`},
          h("header", {class: `ant-layout-header ${CSS_HASH} ${sc("header")}`},
            h("span", {class: "H5Bold16", text: "퍼센티 백오피스"}),
            h("div", {class: "header-right"}, creditsEl, h("span", {class: "Body3Regular14", text: S.me.email}),
              h("a", {href: "/logout", class: "Body3Regular14", text: "로그아웃"}))),
          content))));
    renderMenu();
    renderCredits();
  }
  function renderCredits() { creditsEl.textContent = `이미지 번역 가능 횟수 ${S.me.credits.toLocaleString("ko-KR")}회`; }

  function navigate(key) {
    if (openSelect) openSelect.close();
    S.screen = key;
    renderMenu();
    if (key === "PRODUCT_MANAGE") renderProductScreen();
    else if (key === "DASHBOARD") renderDashboard();
    else content.replaceChildren(h("div", {class: "page-container"}, h("div", {class: "ant-card page-card"},
      h("div", {class: "ant-empty-description", text: "시뮬레이터가 제공하지 않는 화면입니다."}))));
  }
  function renderDashboard() {
    content.replaceChildren(h("div", {class: "page-container"},
      h("h2", {class: "H5Bold16", text: "대시보드"}),
      h("div", {class: "ant-card page-card"}, h("div", {class: "ant-card-body"},
        h("p", {text: `${S.me.email} 님, 환영합니다.`}),
        h("p", {text: "왼쪽 메뉴에서 상품 관리 > 등록 상품 관리를 선택하세요."})))));
  }

  // ---- 등록 상품 관리 ----------------------------------------------------------------------------------------
  let listEls = null;
  function renderProductScreen() {
    const L = S.list;
    const searchInput = h("input", {type: "text", class: `ant-input ${CSS_HASH} ant-input-outlined`, placeholder: "상품명 입력", value: L.q});
    const statusSelect = Select({placeholder: "상태 검색", value: null,
      options: ["전체", "업로드 완료", "업로드 실패", "미업로드"].map((s) => ({label: s, value: s})), width: 200,
      onchange: (v) => { L.status = v; }});
    const form = h("form", {class: `ant-form ant-form-horizontal ${CSS_HASH} filter-form`, onsubmit: (ev) => {
      ev.preventDefault(); L.q = searchInput.value.trim(); L.page = 1; loadList(); }},
    h("div", {class: "filter-row"}, h("span", {class: "filter-label Body3Regular14", text: "상태"}), statusSelect.el),
    h("div", {class: "filter-row"}, h("span", {class: "filter-label Body3Regular14", text: "마켓"}),
      h("div", {class: "ant-checkbox-group"}, ["전체", "쿠팡", "스마트스토어", "11번가", "옥션", "지마켓", "롯데온", "인터파크", "위메프", "티몬", "톡스토어"]
        .map((m) => checkbox({text: m, disabled: true})))),
    h("div", {class: "filter-row"}, h("span", {class: "filter-label Body3Regular14", text: "상품명"}),
      h("div", {class: "search-box"}, searchInput,
        button("상품 검색", {primary: true, type: "submit", id: "filter_search_button_id", icon: "search"}))));
    searchInput.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); form.requestSubmit(); } });

    const sortSelect = Select({borderless: true, value: "desc", options: [{label: "최신 등록순", value: "desc"}, {label: "오래된 등록순", value: "asc"}],
      onchange: (v) => { L.order = v; L.page = 1; loadList(); }});
    const groupOptions = [GROUP_ALL, GROUP_NONE, ...S.groups.map((g) => g.name)].map((g) => ({label: g, value: g}));
    const groupSelect = Select({borderless: true, value: L.group, options: groupOptions, width: 160, cls: sc("groupFilter"),
      onchange: (v) => { L.group = v; L.page = 1; loadList(); }});
    const sizeSelect = Select({borderless: true, value: L.size, options: [20, 50].map((n) => ({label: `${n}개씩 보기`, value: n})), width: 130,
      onchange: (v) => { L.size = v; L.page = 1; loadList(); }});

    const table = h("div", {class: `ant-table-wrapper ${CSS_HASH}`});
    const pagination = h("div", {class: "pagination-holder"});
    listEls = {table, pagination};
    content.replaceChildren(h("div", {class: "page-container"},
      h("h2", {class: "H5Bold16 page-title", text: "등록 상품 관리"}),
      h("div", {class: "ant-card page-card"}, h("div", {class: "ant-card-body"}, form)),
      h("div", {class: "ant-card page-card"}, h("div", {class: "ant-card-body"},
        h("div", {class: `ant-flex list-header ${sc("listHeader")}`},
          h("span", {class: "H5Bold16", text: "등록 상품 목록"}),
          button("새로고침", {icon: "reload", onclick: () => loadList()}),
          h("div", {class: "list-header-right"}, sortSelect.el, groupSelect.el, sizeSelect.el)),
        table, pagination))));
    renderTable();
    loadList();
  }

  async function loadList() {
    const L = S.list;
    const seq = ++L.seq;
    L.loading = true; renderSpin();
    const params = new URLSearchParams({group: L.group, q: L.q, page: L.page, size: L.size, order: L.order, status: L.status || ""});
    try {
      const data = await action(`/api/products?${params}`);
      if (seq !== L.seq) return;
      Object.assign(L, {total: data.total, items: data.items, selected: new Set()});
    } catch (e) {
      if (seq !== L.seq) return;
    }
    L.loading = false;
    if (S.screen === "PRODUCT_MANAGE") { renderTable(); renderPagination(); }
  }
  function renderSpin() {
    const nested = listEls && listEls.table.querySelector(".ant-spin-nested-loading");
    if (!nested) return;
    nested.querySelector(".ant-spin-container").classList.toggle("ant-spin-blur", S.list.loading);
    const spin = nested.querySelector(":scope > div > .ant-spin");
    if (S.list.loading && !spin) nested.prepend(h("div", {}, h("div", {class: "ant-spin ant-spin-spinning", "aria-live": "polite", "aria-busy": "true"}, h("span", {class: "ant-spin-dot ant-spin-dot-spin"}))));
    if (!S.list.loading && spin) spin.parentElement.remove();
  }

  const COLS = [32, 152, 630, 80, 160, 160, 120, 80];
  const colgroup = () => h("colgroup", {}, COLS.map((w) => h("col", {style: `width: ${w}px;`})));
  function renderTable() {
    const L = S.list;
    const won = (n) => Number(n).toLocaleString("ko-KR");
    const allChecked = L.items.length > 0 && L.items.every((p) => L.selected.has(p.id));
    const someChecked = L.items.some((p) => L.selected.has(p.id));
    const selectAll = checkbox({ariaLabel: "Select all", checked: allChecked, onchange: (on) => {
      L.selected = on ? new Set(L.items.map((p) => p.id)) : new Set(); renderTable(); }});
    selectAll.input.indeterminate = someChecked && !allChecked; selectAll.sync();
    const groupButton = button(CFG.renameElement === "group-assign" ? "그룹지정" : "그룹 지정", {disabled: L.selected.size === 0, onclick: openGroupModal});
    const header = h("div", {class: "ant-table-header ant-table-sticky-holder", style: "overflow: hidden; top: 56px;"},
      h("table", {style: "table-layout: fixed;"}, colgroup(), h("thead", {class: "ant-table-thead"}, h("tr", {},
        h("th", {class: "ant-table-cell ant-table-selection-column"}, h("div", {class: "ant-table-selection"}, selectAll)),
        h("th", {class: "ant-table-cell", colspan: "2"}, h("div", {class: `ant-flex ant-flex-align-center ${sc("tableTitle")}`, style: "gap: 8px;"},
          h("span", {text: `총 ${won(L.total)}개 상품`}),
          h("div", {class: "ant-btn-group"}, button("업로드", {size: "small", disabled: true}), button("수정 업로드", {size: "small", disabled: true}),
            button("일괄 편집", {size: "small", disabled: true}), button("삭제", {size: "small", disabled: true})),
          h("div", {class: "ant-btn-group"}, button("일괄 번역", {size: "small", disabled: true})),
          h("div", {class: "ant-btn-group"}, groupButton),
          h("button", {type: "button", class: `ant-btn ${CSS_HASH} ant-btn-default ant-btn-sm ant-dropdown-trigger`, text: "…"}))),
        ["데이터", "그룹", "업로드일 (수집일)", "수집 링크", "메모"].map((t) => h("th", {class: "ant-table-cell", text: t}))))));
    const measure = h("tr", {"aria-hidden": "true", class: "ant-table-measure-row", style: "height: 0px; font-size: 0px;"},
      COLS.map(() => h("td", {style: "padding: 0px; border: 0px; height: 0px;"}, h("div", {style: "height: 0px; overflow: hidden;"}, "\u00a0"))));
    const rows = L.items.length ? L.items.map(productRow) : [h("tr", {class: "ant-table-placeholder"},
      h("td", {class: "ant-table-cell", colspan: "8"}, h("div", {class: `ant-empty ant-empty-normal ${CSS_HASH}`},
        h("div", {class: "ant-empty-image"}), h("div", {class: "ant-empty-description"},
          h("div", {class: "H5Bold16", text: "등록된 상품이 없습니다."}),
          h("div", {class: "Body3Regular14", text: "신규 상품 등록 페이지에서 상품을 등록해보세요!"})))))];
    const body = h("div", {class: "ant-table-body", style: "overflow-y: hidden;"},
      h("table", {style: "table-layout: fixed;"}, colgroup(), h("tbody", {class: "ant-table-tbody"}, measure, rows)));
    listEls.table.replaceChildren(h("div", {class: `ant-spin-nested-loading ${CSS_HASH}`},
      h("div", {class: "ant-spin-container"}, h("div", {class: `ant-table ant-table-middle ant-table-fixed-header${L.items.length ? "" : " ant-table-empty"} ${CSS_HASH}`},
        h("div", {class: "ant-table-container"}, header, body)))));
    renderSpin();
  }

  function productRow(p) {
    const L = S.list;
    const won = (n) => Number(n).toLocaleString("ko-KR");
    const rowSelect = Select({searchable: true, value: p.group || GROUP_NONE, width: 150, dropdownWidth: 180, cls: sc("rowGroup"),
      options: [GROUP_NONE, ...S.groups.map((g) => g.name)].map((g) => ({label: g, value: g})),
      onchange: async (v) => {
        try {
          await action(`/api/products/${p.id}/group`, {group: v});
          message("success", "그룹이 변경되었습니다.");
        } catch (e) { /* message shown */ }
        loadList();
      }});
    const cb = checkbox({checked: L.selected.has(p.id), onchange: (on) => {
      if (on) L.selected.add(p.id); else L.selected.delete(p.id); renderTable(); }});
    // Captured (percenty_project_goods_table_code.md): the name is the first span of a vertical ant-flex, the
    // price lines a flex below it. A click on the name (it bubbles to the block) opens the drawer.
    const info = h("div", {class: `product-info ${sc("productInfo")}`, onclick: () => openDrawer(p.id)},
      h("div", {class: `ant-row ant-row-middle ${CSS_HASH}`}),
      h("div", {class: `ant-flex ${CSS_HASH} ant-flex-align-stretch ant-flex-vertical`},
        h("span", {class: `${sc("nameText")} ${sc("productName")} sim-product-name`, text: p.name}),
        h("div", {class: `${sc("priceLines")} ant-flex ${CSS_HASH} sim-price-lines`},
          h("span", {class: sc("label"), text: `판매가 ${won(p.price)} 원`}),
          h("span", {class: sc("label"), text: `원가 ${won(Math.round(p.cost_cny * 190))} 원 (¥ ${p.cost_cny})`}),
          h("span", {class: sc("label"), text: `해외 배송비 ${won(p.shipping)} 원`})),
        h("span", {class: "Body3Regular14 CharacterSecondary45", style: "cursor: pointer;"}, h("span", {text: p.id}))));
    const tr = h("tr", {"data-row-key": p.id, class: "ant-table-row ant-table-row-level-0" + (L.selected.has(p.id) ? " ant-table-row-selected" : "")},
      h("td", {class: "ant-table-cell ant-table-selection-column"}, cb),
      h("td", {class: "ant-table-cell", colspan: "7"}, h("div", {class: `ant-flex row-flex ${sc("row")}`},
        h("div", {class: "thumb-box"}, p.thumb ? h("img", {src: p.thumb, width: "80", height: "80", alt: ""}) : null,
          h("div", {class: "ai-ribbon", style: "display: none;", text: "AI"})),
        info,
        button("", {icon: "form", size: "small", cls: "chart-button"}),
        h("div", {class: "row-group"}, rowSelect.el),
        h("div", {class: "row-dates Body3Regular14"}, h("div", {text: "[정보없음]"}), h("div", {text: p.collected.replaceAll("-", "/")})),
        h("div", {class: "row-source"}, h("img", {src: "/static/ic_source.svg", width: "20", height: "20", alt: p.source})),
        button("", {icon: "form", size: "small", cls: "memo-button"}),
        h("div", {class: "row-memo FootnoteDescription", text: p.memo}))));
    return tr;
  }

  function renderPagination() {
    const L = S.list;
    const pages = Math.max(Math.ceil(L.total / L.size), 1);
    if (!L.total) { listEls.pagination.replaceChildren(); return; }
    const go = (n) => { if (n >= 1 && n <= pages && n !== L.page) { L.page = n; loadList(); } };
    const item = (n) => h("li", {title: String(n), class: `ant-pagination-item ant-pagination-item-${n}` + (n === L.page ? " ant-pagination-item-active" : ""),
      tabindex: "0", onclick: () => go(n)}, h("a", {rel: "nofollow", text: String(n)}));
    let nums = [];
    if (pages <= 7) nums = Array.from({length: pages}, (_, i) => i + 1);
    else {
      const lo = Math.max(2, L.page - 2), hi = Math.min(pages - 1, L.page + 2);
      nums = [1, ...(lo > 2 ? ["prev"] : []), ...Array.from({length: hi - lo + 1}, (_, i) => lo + i), ...(hi < pages - 1 ? ["next"] : []), pages];
    }
    listEls.pagination.replaceChildren(h("ul", {class: `ant-pagination ${CSS_HASH}`},
      h("li", {title: "이전 페이지", class: "ant-pagination-prev" + (L.page === 1 ? " ant-pagination-disabled" : ""), "aria-disabled": String(L.page === 1), onclick: () => go(L.page - 1)},
        h("button", {class: "ant-pagination-item-link", type: "button", tabindex: "-1", disabled: L.page === 1}, "‹")),
      nums.map((n) => typeof n === "number" ? item(n) : h("li", {title: n === "prev" ? "이전 5 페이지" : "다음 5 페이지",
        class: `ant-pagination-jump-${n}`, onclick: () => go(n === "prev" ? L.page - 5 : L.page + 5)}, h("a", {class: "ant-pagination-item-link", text: "•••"}))),
      h("li", {title: "다음 페이지", class: "ant-pagination-next" + (L.page === pages ? " ant-pagination-disabled" : ""), "aria-disabled": String(L.page === pages), onclick: () => go(L.page + 1)},
        h("button", {class: "ant-pagination-item-link", type: "button", tabindex: "-1", disabled: L.page === pages}, "›"))));
  }

  // ---- 그룹 지정 modal --------------------------------------------------------------------------------------
  function openGroupModal() {
    const ids = [...S.list.selected];
    if (!ids.length) return;
    let chosen = null, grouping = true;
    const radios = S.groups.map((g) => {
      const input = h("input", {type: "radio", class: "ant-radio-input", value: g.uuid, name: "group-radio"});
      const radio = h("span", {class: "ant-radio ant-wave-target"}, input, h("span", {class: "ant-radio-inner"}));
      const label = h("label", {class: `ant-radio-wrapper ${CSS_HASH}`}, radio, h("span", {text: g.name}));
      input.addEventListener("change", () => {
        chosen = g.uuid;
        group.querySelectorAll(".ant-radio-wrapper").forEach((l) => {
          const on = l.querySelector("input").checked;
          l.classList.toggle("ant-radio-wrapper-checked", on);
          l.querySelector(".ant-radio").classList.toggle("ant-radio-checked", on);
        });
      });
      return label;
    });
    const group = h("div", {class: `ant-radio-group ant-radio-group-outline ${CSS_HASH}`}, radios);
    const sw = h("button", {type: "button", role: "switch", "aria-checked": "true", class: `ant-switch ${CSS_HASH} ant-switch-checked`},
      h("div", {class: "ant-switch-handle"}), h("span", {class: "ant-switch-inner"}));
    sw.addEventListener("click", () => {
      grouping = !grouping;
      sw.classList.toggle("ant-switch-checked", grouping); sw.setAttribute("aria-checked", String(grouping));
      group.style.opacity = grouping ? "" : "0.4";
    });
    const layer = modal({title: "상품 그룹핑/제외하기", width: 720, body: [
      h("div", {class: "ant-flex grouping-switch", style: "gap: 8px; align-items: center; margin-bottom: 12px;"}, h("span", {text: "그룹핑하기"}), sw),
      group],
    footer: [button("닫기", {onclick: () => layer.close()}), button("확인", {primary: true, onclick: async () => {
      if (grouping && !chosen) { message("warning", "그룹을 선택해주세요."); return; }
      try {
        await action("/api/products/group", grouping ? {ids, group: chosen} : {ids, exclude: true});
        layer.close();
        message("success", "그룹이 지정되었습니다.");
        loadList();
      } catch (e) { /* message shown */ }
    }})]});
  }

  // ---- edit drawer ---------------------------------------------------------------------------------------
  const TABS = ["상품명 / 카테고리", "옵션", "가격", "키워드", "썸네일", "상세페이지", "업로드"];
  function closeIcon(onclick, style) {
    return h("span", {role: "img", "aria-label": "close", tabindex: "-1", class: "anticon anticon-close", style, onclick}, icon("close").firstChild);
  }
  function drawerShell({title, body, footer, width, onclose}) {
    const z = 1000 + layers.length * 10;
    const wrapper = h("div", {class: "ant-drawer-content-wrapper", style: `width: ${width};`},
      h("div", {class: "ant-drawer-content", "aria-modal": "true", role: "dialog"},
        h("div", {class: "ant-drawer-wrapper-body"},
          h("div", {class: "ant-drawer-header"}, h("div", {class: "ant-drawer-header-title"}, h("div", {class: "ant-drawer-title"}, title(() => layer.close())))),
          body, footer ? h("div", {class: "ant-drawer-footer"}, footer) : null)));
    const mask = h("div", {class: "ant-drawer-mask", onclick: () => layer.close()});
    const el = h("div", {class: `ant-drawer ant-drawer-right ${CSS_HASH} ant-drawer-open`, tabindex: "-1", style: `z-index: ${z};`},
      mask, h("div", {tabindex: "0", "aria-hidden": "true", "data-sentinel": "start", style: "width:0;height:0;overflow:hidden;outline:none;position:absolute;"}),
      wrapper, h("div", {tabindex: "0", "aria-hidden": "true", "data-sentinel": "end", style: "width:0;height:0;overflow:hidden;outline:none;position:absolute;"}));
    document.body.append(h("div", {class: "ant-drawer-portal"}, el));
    const layer = pushLayer({el, close() { dropLayer(layer); el.parentElement.remove(); if (onclose) onclose(); }});
    return layer;
  }

  async function openDrawer(pid) {
    if (layers.some((l) => l.kind === "product")) return;
    let product;
    try { product = await action(`/api/products/${pid}`); } catch (e) { return; }
    const D = {product, tab: 0, tabsId: uid(), source: null};
    const tabList = h("div", {class: "ant-tabs-nav-list", style: "transform: translate(0px, 0px);"});
    const pane = h("div", {role: "tabpanel", tabindex: "0", "aria-hidden": "false", class: "ant-tabs-tabpane ant-tabs-tabpane-active"});
    const memo = h("span", {class: "memoContent"});
    const body = h("div", {class: "ant-drawer-body"});
    const title = (close) => h("div", {class: `ant-row ant-row-middle ${CSS_HASH}`},
      h("div", {class: `ant-col ${CSS_HASH}`, style: "flex: 1 1 auto;"}, h("div", {class: sc("tabsHolder")},
        h("div", {class: `ant-tabs ant-tabs-top ant-tabs-card ${CSS_HASH}`},
          h("div", {role: "tablist", "aria-orientation": "horizontal", class: "ant-tabs-nav"}, h("div", {class: "ant-tabs-nav-wrap"}, tabList)),
          h("div", {class: "ant-tabs-content-holder"}, h("div", {class: "ant-tabs-content ant-tabs-content-top"}, pane))))),
      h("div", {class: `ant-col ${CSS_HASH}`}),
      h("div", {class: `ant-col ${CSS_HASH}`, style: "display: flex; gap: 24px;"},
        button("브라우저 번역", {disabled: true, icon: "translation"}), closeIcon(close, "font-size: 18px; cursor: pointer;")),
      h("div", {class: `${sc("memoBar")} ant-flex ${CSS_HASH}`}, icon("file-text"), memo,
        closeIcon(() => {}, "color: rgba(0, 0, 0, 0.45);")));
    const footer = h("div", {class: `ant-col ${CSS_HASH}`, style: "padding-left: 4px; padding-right: 4px;"},
      button("저장하기", {primary: true, onclick: () => message("success", "저장되었습니다.")}));
    const layer = drawerShell({width: "min(1280px, 92vw)", title, body, footer,
      onclose: () => { if (S.screen === "PRODUCT_MANAGE") loadList(); }});
    layer.kind = "product";
    layer.onkey = (ev) => {
      if (ev.altKey && ev.key >= "1" && ev.key <= "7") { ev.preventDefault(); switchTab(Number(ev.key) - 1); }
    };
    D.layer = layer;
    function switchTab(k) { D.tab = k; D.source = null; render(); }
    D.refresh = (p) => { if (p) D.product = p; render(); };
    function render() {
      tabList.replaceChildren(...TABS.map((t, k) => h("div", {"data-node-key": String(k), class: "ant-tabs-tab" + (k === D.tab ? " ant-tabs-tab-active" : ""), onclick: () => switchTab(k)},
        h("div", {role: "tab", "aria-selected": String(k === D.tab), class: "ant-tabs-tab-btn", tabindex: k === D.tab ? "0" : "-1",
          id: `rc-tabs-${D.tabsId}-tab-${k}`, "aria-controls": `rc-tabs-${D.tabsId}-panel-${k}`}, h("span", {text: t})))));
      pane.id = `rc-tabs-${D.tabsId}-panel-${D.tab}`;
      pane.setAttribute("aria-labelledby", `rc-tabs-${D.tabsId}-tab-${D.tab}`);
      memo.textContent = D.product.memo;
      // Variant: whether the other tabs' content stays mounted (hidden) is not captured.
      const tabs = CFG.keepTabsMounted ? TAB_RENDER.map((render, k) => {
        const el = render(D);
        if (k !== D.tab) el.style.display = "none";
        return el;
      }) : [TAB_RENDER[D.tab](D)];
      body.replaceChildren(...tabs,
        h("div", {class: `ant-float-btn-group ant-float-btn-group-circle ${CSS_HASH}`, style: "right: 24px; bottom: 100px;"},
          ["up", "form", "eye", "file-text"].map((n) => h("button", {type: "button", class: "ant-float-btn ant-float-btn-default ant-float-btn-circle"}, icon(n)))));
    }
    render();
  }

  const foot = (text) => h("span", {class: `${sc("foot")} FootnoteDescription `, text});
  function imageCard(src, actions) {  // the draggable image card of 일괄 편집 and 썸네일
    return h("div", {class: `ant-col ${CSS_HASH}`, style: "padding-left: 4px; padding-right: 4px;"}, h("div", {draggable: "false", class: `${sc("imageCard")} sim-card`},
      h("div", {class: `ant-row ${CSS_HASH}`, style: "margin-left: 10px; margin-right: 10px; margin-bottom: 10px;"},
        h("div", {class: `ant-col ${CSS_HASH}`, style: "flex: 1 1 auto;"}, h("div", {class: `${sc("cardCopy")} sim-action`, onclick: actions.copy}, foot(actions.copyLabel)))),
      h("div", {class: `ant-row ant-row-no-wrap ant-row-middle ${CSS_HASH}`, style: "margin-left: 10px; margin-right: 10px; cursor: move;"},
        h("div", {class: `ant-col ${CSS_HASH}`}, h("img", {draggable: "false", src, class: sc("cardImg"), width: "140", height: "140"}))),
      h("div", {class: `ant-row ant-row-no-wrap ant-row-space-between ant-row-middle ${CSS_HASH}`},
        h("div", {class: `ant-col ${CSS_HASH}`}, h("div", {class: `${sc("cardDelete")} sim-action`, onclick: actions.remove}, foot("삭제"))),
        h("div", {class: `ant-col ${CSS_HASH}`}, h("div", {class: `${sc("cardEdit")} sim-action`, onclick: actions.edit}, icon("edit"), foot(actions.editLabel || "편집하기"))))));
  }
  const uploadTile = () => h("div", {class: `ant-col ${CSS_HASH}`, style: "padding-left: 4px; padding-right: 4px;"},
    h("div", {draggable: "false", class: `${sc("uploadTile")} sim-upload-tile`}, h("div", {class: `ant-row ${CSS_HASH}`}, icon("plus")),
      h("div", {class: `ant-row ${CSS_HASH}`}, h("span", {class: `${sc("foot")} Body3Regular14 CharacterSecondary45`, text: "Upload"}))));
  const unsupported = () => message("info", "시뮬레이터에서 지원하지 않는 기능입니다.");

  async function mutate(D, path, body) {
    try {
      const p = await action(`/api/products/${D.product.id}${path}`, body);
      D.refresh(p);
      return p;
    } catch (e) {
      if (e.message === "not_found") D.refresh(await api(`/api/products/${D.product.id}`));
      return null;
    }
  }

  // Tab content, as far as captured (docs/3단계 메서드 개발.md: 썸네일 and 옵션 fragments); the other tabs only
  // carry the marker buttons production waited for (dom_selectors.py PAGE_LOAD_INDICATORS).
  const section = (...children) => h("div", {class: `${sc("tabSection")} sim-tab-section`}, ...children);
  const bar = (...children) => h("div", {class: `ant-row ant-row-middle ${CSS_HASH} sim-tab-toolbar`}, ...children);
  function optionItem(D, o) {
    const image = o.image ? h("div", {class: `${sc("optionImage")} sim-card`},
      h("div", {class: `ant-row ${CSS_HASH}`}, h("div", {class: `ant-col ${CSS_HASH}`}, h("div", {class: sc("optionAction"),
        onclick: () => mutate(D, "/images/copy", {list: "option", image: o.image.id})}, foot("썸네일로 복사")))),
      h("img", {src: o.image.src, class: sc("optionImg"), width: "80", height: "80"}),
      h("div", {class: `ant-row ant-row-space-between ${CSS_HASH}`},
        h("div", {class: `ant-col ${CSS_HASH}`}, h("div", {class: sc("optionDelete"), onclick: () => mutate(D, "/images/delete", {list: "option", image: o.image.id})}, foot("삭제"))),
        h("div", {class: `ant-col ${CSS_HASH}`}, h("div", {class: sc("optionAction"), onclick: () => openEditor(D, "option", o.image.id)}, icon("edit"), foot("편집")))))
      : h("div", {class: sc("optionImage")});
    return h("li", {class: "ant-list-item", role: "button", tabindex: "0", "aria-roledescription": "sortable"},
      h("div", {class: `ant-row ant-row-no-wrap ant-row-stretch ${CSS_HASH}`},
        h("div", {class: `ant-col ${CSS_HASH}`, style: "cursor: pointer;"}, checkbox({checked: true})),
        h("div", {class: `ant-col ${CSS_HASH}`, style: "cursor: pointer;"}, image),
        h("div", {class: `ant-col ${CSS_HASH}`}, h("span", {text: "옵션명"}), h("input", {class: `ant-input ${CSS_HASH}`, value: o.name}),
          h("span", {class: sc("zhName"), text: o.zh_name}))));
  }
  const TAB_RENDER = [
    () => section(bar(button("카테고리 추천 받기", {onclick: unsupported})), h("p", {class: "Body3Regular14", text: "카테고리: 패션의류 > 여성의류"})),
    (D) => section(
      h("div", {class: sc("optionType")}, h("input", {class: `ant-input ${CSS_HASH}`, value: "색상", style: "width: 160px;"}),
        ["A-Z", "1-99", "빈칸 제거"].map((t) => button(t, {size: "small", onclick: unsupported})), button("AI 옵션명 다듬기", {onclick: unsupported}),
        h("div", {class: sc("optionList")}, h("div", {class: `ant-list ant-list-split ${CSS_HASH}`}, h("div", {class: "ant-spin-nested-loading"},
          h("div", {class: "ant-spin-container"}, h("ul", {class: "ant-list-items"}, D.product.options.map((o) => optionItem(D, o)))))))),
      h("div", {class: sc("optionAdd")}, button("옵션 추가", {onclick: unsupported}))),
    () => section(bar(button("배송비용 계산기", {onclick: unsupported})), h("p", {class: "Body3Regular14", text: "가격 설정"})),
    () => section(bar(h("input", {class: `ant-input ${CSS_HASH}`, placeholder: "키워드 입력", style: "width: 240px;"}), button("키워드 추가 enter", {onclick: unsupported}))),
    (D) => {
      const p = D.product;
      return section(
        bar(h("span", {class: `${sc("text")} H5Bold16 CharacterTitle85`, text: "썸네일"}), button("전체 상세페이지로 복사", {onclick: unsupported}),
          button("전체 삭제", {onclick: async () => { for (const t of [...D.product.thumbs]) await mutate(D, "/images/delete", {list: "thumbnail", image: t.id}); }}),
          button("워터마크 설정", {disabled: true}), button("썸네일 되돌리기", {onclick: unsupported})),
        h("div", {class: `ant-divider ${CSS_HASH} ant-divider-horizontal`, role: "separator"}),
        h("div", {class: `ant-row ${CSS_HASH}`}, h("div", {class: `ant-col ${CSS_HASH}`},
          h("span", {class: `${sc("text")} Body2Medium14 CharacterTitle85`, text: `총 ${p.thumbs.length}개의 썸네일`}))),
        h("div", {class: sc("thumbList")}, h("div", {class: `ant-row ant-row-bottom ${CSS_HASH}`, style: "margin-left: -4px; margin-right: -4px; row-gap: 8px;"},
          p.thumbs.map((t) => imageCard(t.src, {copyLabel: "상세페이지로 복사", copy: unsupported,
            remove: () => mutate(D, "/images/delete", {list: "thumbnail", image: t.id}),
            edit: () => openEditor(D, "thumbnail", t.id)})), uploadTile())));
    },
    (D) => detailTab(D),
    () => section(bar(button("쿠팡 개별 업로드", {onclick: unsupported}))),
  ];

  // ---- 상세페이지 tab: CKEditor-like editor -------------------------------------------------------------------
  const CK_BUTTONS = ["제목", "글꼴 크기", "글자 색깔", "배경 색깔", "굵게 (Ctrl+B)", "기울임꼴 (Ctrl+I)", "밑줄 (Ctrl+U)", "취소선",
    "링크 (Ctrl+K)", "글머리 기호", "번호 매기기", "텍스트 정렬", "테이블 삽입", "이미지 삽입", "인용 부호", "가로줄", "실행 취소 (Ctrl+Z)", "HTML 삽입", "소스"];
  function sourceOf(p) {
    const figures = p.detail.map((im) => `<figure class="image"><img src="${im.src}"></figure>`).join("\n");
    return [p.html_head, figures, p.html].filter(Boolean).join("\n");
  }
  function renderedHtml(html) { const d = h("div", {class: "sim-html"}); d.innerHTML = html; return d; }
  // CKEditor 5 as captured (percenty_project_editor_toolbar.md): the 소스 button has no aria-pressed (an older
  // SourceEditing). Source mode as upstream CKEditor: a textarea in div.ck-source-editing-area[data-value], focused
  // with the caret at the start; the change is committed when 소스 is pressed again.
  function detailTab(D) {
    const p = D.product;
    const hash = Math.random().toString(16).slice(2, 10);
    const inSource = D.source !== null;
    const editable = inSource
      ? h("div", {class: "ck ck-source-editing-area", "data-value": D.sourceNew},
        h("textarea", {rows: "1", dir: "ltr", value: D.sourceNew, oninput: (ev) => { D.sourceNew = ev.target.value; ev.target.parentElement.dataset.value = ev.target.value; }}))
      : h("div", {class: "ck ck-content ck-editor__editable ck-rounded-corners ck-editor__editable_inline ck-blurred", lang: "ko", dir: "ltr",
        role: "textbox", "aria-label": "편집기 편집 영역: main", contenteditable: "true"},
      p.html_head ? renderedHtml(p.html_head) : null,
      p.detail.map((im) => h("figure", {class: "image ck-widget", contenteditable: "false"}, h("img", {src: im.src}))),
      p.html ? renderedHtml(p.html) : null);
    const sourceClass = CFG.renameElement === "source" ? "ck-source-button" : "ck-source-editing-button";
    const toolbarButtons = CK_BUTTONS.map((t) => {
      const isSource = t === "소스", isEmbed = t === "HTML 삽입";
      const b = h("button", {class: "ck ck-button " + (isSource ? `${sourceClass} ${inSource ? "ck-on" : "ck-off"} ck-button_with-text` : "ck-off") + (inSource && !isSource ? " ck-disabled" : ""),
        type: "button", tabindex: "-1", "data-cke-tooltip-text": t, "data-cke-tooltip-position": "s", "aria-labelledby": `ck-editor__aria-label_${hash}${t.length}`},
      h("span", {class: "ck ck-button__label" + (isSource ? "" : " ck-visually-hidden"), id: `ck-editor__aria-label_${hash}${t.length}`, text: t}));
      if (isSource) b.addEventListener("click", () => toggleSource(D));
      else if (isEmbed) b.addEventListener("click", () => { if (!inSource) insertEmbed(D, editable); });
      return b;
    });
    const editor = h("div", {class: "ck ck-reset ck-editor ck-rounded-corners", role: "application", dir: "ltr", lang: "ko", "aria-labelledby": `ck-editor__label_${hash}`},
      h("label", {class: "ck ck-label ck-voice-label", id: `ck-editor__label_${hash}`, text: "리치 텍스트 편집기, main"}),
      h("div", {class: "ck ck-editor__top ck-reset_all", role: "presentation"}, h("div", {class: "ck ck-sticky-panel"}, h("div", {class: "ck ck-sticky-panel__content"},
        h("div", {class: "ck ck-toolbar ck-toolbar_grouping", role: "toolbar", "aria-label": "편집기 툴바", tabindex: "-1"}, h("div", {class: "ck ck-toolbar__items"}, toolbarButtons))))),
      h("div", {class: "ck ck-editor__main", role: "presentation"}, editable));
    if (inSource) setTimeout(() => { const ta = editable.querySelector("textarea"); if (ta && ta.isConnected) { ta.setSelectionRange(0, 0); ta.focus(); } }, 0);
    const bulkLabel = CFG.renameElement === "bulk-edit" ? "일괄편집" : "일괄 편집";
    return section(
      bar(h("button", {type: "button", class: `ant-btn ${CSS_HASH} ant-btn-default ${sc("bulkEdit")}`, onclick: () => openBulkEdit(D)},
        h("span", {class: "ant-btn-icon"}, icon("form")), h("span", {text: bulkLabel}))),
      editor);
  }
  async function toggleSource(D) {
    if (D.source === null) { D.source = sourceOf(D.product); D.sourceNew = D.source; D.refresh(); return; }
    const old = D.source, next = D.sourceNew;
    if (next !== old) {
      const p = await mutate(D, "/html", {via: "source", old, new: next});
      if (!p) return;  // the failed change stays in the textarea, as CKEditor would keep it
    }
    D.source = null; D.refresh();
  }
  function insertEmbed(D, editable) {
    const textarea = h("textarea", {class: "ck ck-reset ck-input ck-input-text raw-html-embed__source", placeholder: "원시 HTML을 여기에 붙여넣으세요...", dir: "ltr"});
    const widget = h("div", {class: "ck-widget raw-html-embed raw-html-embed_edit-mode ck-widget_selected", "data-html-embed-label": "HTML 코드 조각", dir: "ltr", contenteditable: "false"},
      h("div", {class: "raw-html-embed__buttons-wrapper"},
        h("button", {class: "ck ck-button raw-html-embed__save-button ck-off", type: "button", "data-cke-tooltip-text": "변경사항 저장",
          onclick: async () => { if (textarea.value.trim()) await mutate(D, "/html", {via: "embed", html: textarea.value}); else widget.remove(); }},
        h("span", {class: "ck ck-button__label ck-visually-hidden", text: "변경사항 저장"})),
        h("button", {class: "ck ck-button raw-html-embed__cancel-button ck-off", type: "button", "data-cke-tooltip-text": "취소", onclick: () => widget.remove()},
          h("span", {class: "ck ck-button__label ck-visually-hidden", text: "취소"}))),
      textarea);
    editable.append(widget);
    textarea.focus();
  }

  // ---- 일괄 편집 drawer -------------------------------------------------------------------------------------
  // As captured (docs/4.md, 일괄편집 모달창 DOM.md): title row with a bare close icon; body: header row, divider,
  // `총 N개의 이미지`, then the cards and the Upload tile.
  function openBulkEdit(D) {
    const body = h("div", {class: "ant-drawer-body"});
    const title = (close) => h("div", {class: `ant-row ant-row-middle ${CSS_HASH}`},
      h("div", {class: `ant-col ${CSS_HASH}`, style: "flex: 1 1 auto;"}, h("span", {class: `${sc("text")} H5Medium16 CharacterTitle85`, text: "상세페이지 이미지 일괄 편집"})),
      h("div", {class: `ant-col ${CSS_HASH}`, style: "cursor: pointer;"}, closeIcon(close, "font-size: 18px;")));
    const layer = drawerShell({title, width: "min(1100px, 86vw)", body,
      onclose: () => { D.refresh = D.baseRefresh; D.refresh(); }});
    layer.kind = "bulk";
    const dnd = uid() % 40;
    const render = () => {
      const p = D.product;
      body.replaceChildren(h("div", {class: sc("bulkBody")},
        h("div", {class: `ant-row ant-row-middle ${CSS_HASH}`},
          h("div", {class: `ant-col ${CSS_HASH}`}, h("span", {class: `${sc("text")} H5Bold16 CharacterTitle85`, text: "상세페이지 이미지"})),
          h("div", {class: `ant-col ${CSS_HASH}`}, h("div", {class: `ant-btn-group ${CSS_HASH}`, style: "margin-left: 8px;"},
            button("전체 썸네일로 복사", {onclick: async () => { for (const im of [...D.product.detail]) await mutate(D, "/images/copy", {list: "detail", image: im.id}); }}),
            button("전체 삭제", {onclick: async () => { for (const im of [...D.product.detail]) await mutate(D, "/images/delete", {list: "detail", image: im.id}); }}))),
          h("div", {class: `ant-col ${CSS_HASH}`, style: "flex: 1 1 auto;"}),
          h("div", {class: `ant-col ${CSS_HASH}`}, button("이미지 다시 불러오기", {onclick: async () => D.refresh(await api(`/api/products/${D.product.id}`))}))),
        h("div", {class: `ant-divider ${CSS_HASH} ant-divider-horizontal`, role: "separator"}),
        h("span", {class: `${sc("text")} Body2Medium14 CharacterTitle85`, text: `총 ${p.detail.length}개의 이미지`}),
        h("div", {class: sc("cardList")}, h("div", {class: `ant-spin-nested-loading ${CSS_HASH}`}, h("div", {class: "ant-spin-container"},
          h("div", {class: `ant-row ant-row-bottom ${CSS_HASH}`, style: "margin-left: -4px; margin-right: -4px; row-gap: 8px;"},
            p.detail.map((im) => imageCard(im.src, {copyLabel: "썸네일로 복사",
              copy: () => mutate(D, "/images/copy", {list: "detail", image: im.id}),
              remove: () => mutate(D, "/images/delete", {list: "detail", image: im.id}),
              edit: () => openEditor(D, "detail", im.id)})), uploadTile()),
          h("div", {id: `DndDescribedBy-${dnd}`, style: "display: none;", text: "To pick up a draggable item, press the space bar."}))))));
    };
    D.baseRefresh = D.baseRefresh || D.refresh;
    D.refresh = (p) => { if (p) D.product = p; render(); };
    render();
  }

  // ---- image-translation editor -----------------------------------------------------------------------------
  function editorImages(D, list) {
    const p = D.product;
    if (list === "detail") return p.detail;
    if (list === "thumbnail") return p.thumbs;
    return p.options.filter((o) => o.image).map((o) => o.image);
  }
  // The editor as far as the captures show it (docs/design/real-dom.md): `canvas#pCanvas`, and a strip of
  // `div.<sc> > span > img.p_tooltip_image_editor_thumb + button` with no `selected` class. Which image is shown
  // is visible only in the canvas and in the styled-components class of the shown thumb's wrapper. What the
  // evidence leaves open is a site variant (CFG): where the editor opens, thumb clicks, TAB wrapping, loading.
  function openEditor(D, list, imageId) {
    const opened = Math.max(editorImages(D, list).findIndex((im) => im.id === imageId), 0);
    let current = CFG.editorOpensFirst ? 0 : opened;
    let busy = false;
    const canvas = h("canvas", {id: "pCanvas", width: "640", height: "640"});
    const strip = h("div", {class: `sim-editor-thumbs ${sc("editorStrip")}`});
    const translateBtn = button("원클릭 이미지 번역", {icon: "thunderbolt", cls: "translate-button", onclick: () => translate()});
    if (CFG.renameElement === "translate") translateBtn.querySelector(":scope > span:last-child").textContent = "원클릭 번역";
    const thumbClass = CFG.renameElement === "thumb" ? "p_tooltip_editor_thumb" : "p_tooltip_image_editor_thumb";
    const draw = () => {
      const images = editorImages(D, list);
      current = Math.min(current, Math.max(images.length - 1, 0));
      const im = images[current];
      strip.replaceChildren(...images.map((x, i) => h("div", {class: scVariant("editorThumb", i === current ? "shown" : ""), style: "z-index: 1;" + (i === current ? " outline: 2px solid #1c3ff5; border-radius: 4px;" : "")},
        h("span", {}, h("img", {src: x.src, class: `${sc("editorThumbImg")} ${thumbClass}`, width: "64", height: "64",
          onclick: () => { if (CFG.thumbClickMoves !== false && !busy) { current = i; draw(); } }}),
        h("button", {type: "button", class: `ant-btn ${CSS_HASH} ant-btn-text ant-btn-icon-only`}, icon("close"))))));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      canvas.dataset.src = im ? im.src : "";
      if (im) { const img = new Image(); img.onload = () => { if (canvas.dataset.src === im.src) ctx.drawImage(img, 0, 0, canvas.width, canvas.height); }; img.src = im.src; }
    };
    async function translate() {
      if (busy) return;
      const im = editorImages(D, list)[current];
      if (!im) return;
      busy = true;
      const showLoading = CFG.translateLoading !== false;
      const iconHolder = translateBtn.querySelector(".ant-btn-icon");
      if (showLoading) {
        translateBtn.classList.add("ant-btn-loading");
        iconHolder.replaceChildren(h("span", {class: "ant-btn-loading-icon"}, icon("loading", "anticon-spin")));
      }
      try {
        const res = await action(`/api/products/${D.product.id}/translate`, {list, image: im.id});
        if (res.product) D.product = res.product;
        if (res.status === "translated") { S.me.credits = res.credits; renderCredits(); }
        else if (res.status === "no_credits") message("error", "번역 가능 횟수를 모두 사용했습니다");  // assumption: text not captured
      } catch (e) {
        if (e.message === "not_found") D.product = await api(`/api/products/${D.product.id}`);
      } finally {
        busy = false;
        if (showLoading) { translateBtn.classList.remove("ant-btn-loading"); iconHolder.replaceChildren(icon("thunderbolt")); }
        draw();
      }
    }
    const layer = modal({width: 1200, cls: "image-editor-modal", closable: false, body: [
      h("div", {class: `editor-head ${sc("editorHead")}`}, h("span", {class: "H5Bold16", text: "이미지 편집"}),
        h("div", {class: "editor-actions"}, translateBtn, button("수정사항 저장", {primary: true, onclick: () => layer.close()}))),
      h("div", {class: "editor-main"}, strip, h("div", {class: "canvas-holder"}, canvas))],
    onclose: () => D.refresh()});
    layer.esc = false;  // the operators' notes: the editor does not close on ESC, only with 수정사항 저장
    layer.onkey = (ev) => {
      if (ev.target && (ev.target.tagName === "INPUT" || ev.target.tagName === "TEXTAREA")) return;
      const n = editorImages(D, list).length;
      if (ev.key === "t" || ev.key === "T") { ev.preventDefault(); translate(); }
      else if (ev.key === "Tab") {
        ev.preventDefault();
        if (!busy && n) { current = CFG.tabWraps === false ? Math.min(current + 1, n - 1) : (current + 1) % n; draw(); }
      } else if (ev.key === "Home") { ev.preventDefault(); if (!busy) { current = 0; draw(); } }
    };
    draw();
  }

  // ---- overlays: popups and Channel Talk -----------------------------------------------------------------
  function showPopup(kind) {
    if (document.querySelector(".notice-popup")) return;
    const layer = modal({width: 480, cls: "notice-popup", body: [
      h("img", {src: kind === "login" ? "/img/notice-ko.png" : "/img/event-ko.png", width: "432", height: "432", alt: "공지"})],
    footer: [button("다시 보지 않기", {onclick: () => { localStorage.setItem("sim_notice_hidden", "1"); layer.close(); }}),
      button("닫기", {primary: true, onclick: () => layer.close()})]});
  }
  function channelTalk() {
    const iframe = h("iframe", {id: "ch-plugin-script-iframe", title: "Channel chat", srcdoc: "<p style='font-family:sans-serif'>무엇을 도와드릴까요?</p>"});
    document.body.append(h("div", {id: "ch-plugin", class: "notranslate"},
      h("div", {id: "ch-plugin-entry"}, h("div", {class: "ch-greeting"}, h("b", {text: "퍼센티"}), h("div", {text: "궁금한 점이 있으신가요? 채팅으로 문의하세요."})),
        h("div", {class: "ch-launcher", text: "💬"})),
      h("div", {id: "ch-plugin-script", class: "ch-messenger-hidden ch-desk-messenger"}, iframe)));
  }

  // ---- start -----------------------------------------------------------------------------------------------
  async function start() {
    try {
      const [me, groups] = await Promise.all([api("/api/me"), api("/api/groups")]);
      S.me = me; S.groups = groups;
    } catch (e) {
      if (e.message !== "session_expired") setTimeout(start, 1000);
      return;
    }
    renderShell();
    renderDashboard();
    if (CFG.channelTalk) channelTalk();
    if (CFG.loginPopup && !localStorage.getItem("sim_notice_hidden")) setTimeout(() => showPopup("login"), 800);
  }
  start();
})();
