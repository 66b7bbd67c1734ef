"use strict";
(function () {
  const form = document.getElementById("signinForm");
  const email = document.getElementById("email");
  const saveId = document.getElementById("saveId");
  const error = form.querySelector(".signin-error");
  const saved = localStorage.getItem("percenty_saved_id");
  if (saved) { email.value = saved; saveId.checked = true; }
  saveId.addEventListener("change", () => {
    saveId.parentElement.classList.toggle("ant-checkbox-checked", saveId.checked);
    saveId.closest("label").classList.toggle("ant-checkbox-wrapper-checked", saveId.checked);
  });
  saveId.dispatchEvent(new Event("change"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    const button = form.querySelector("button[type=submit]");
    button.classList.add("ant-btn-loading");
    try {
      const res = await fetch("/api/login", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({email: email.value, password: document.getElementById("password").value}),
      });
      if (res.ok) {
        if (saveId.checked) localStorage.setItem("percenty_saved_id", email.value);
        else localStorage.removeItem("percenty_saved_id");
        location.href = "/";
        return;
      }
      error.textContent = res.status === 401 ? "이메일 또는 비밀번호가 일치하지 않습니다." : "잠시 후 다시 시도해주세요.";
      error.hidden = false;
    } catch (e) {
      error.textContent = "네트워크 오류가 발생했습니다.";
      error.hidden = false;
    } finally {
      button.classList.remove("ant-btn-loading");
    }
  });
})();
