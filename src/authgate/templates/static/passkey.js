// The pages' one script: WebAuthn, which only the browser can do. It is trusted with no secret,
// cookie or redirect: it asks /ui/passkey/options for a challenge (with the form's CSRF token),
// runs the browser's ceremony, writes `challengeId` and `credential` into the page's own form and
// submits it. The server does the rest (checks, sign-in, redirects) as for any other form.
"use strict";

(function () {
  const supported =
    typeof window.PublicKeyCredential === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function";
  const buttons = Array.from(document.querySelectorAll("button[data-passkey]"));
  if (!supported) {
    return;
  }

  async function options(purpose, form) {
    const body = new URLSearchParams();
    body.set("purpose", purpose);
    body.set("csrf_token", form.elements.namedItem("csrf_token").value);
    const response = await fetch("/ui/passkey/options", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body,
    });
    const answer = await response.json();
    if (!response.ok) {
      if (answer.code === "reauthentication_required" && purpose === "register") {
        window.location.assign("/ui/reauth?return_to=" + encodeURIComponent("/ui/account/passkeys"));
      }
      throw new Error(answer.detail || answer.title || "The passkey could not be started.");
    }
    return answer;
  }

  async function ceremony(purpose, form, mediation, signal) {
    const started = await options(purpose, form);
    let credential;
    if (purpose === "register") {
      credential = await navigator.credentials.create({
        publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(started.options),
      });
    } else {
      const request = { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(started.options) };
      if (mediation) {
        request.mediation = mediation;
        request.signal = signal;
      }
      credential = await navigator.credentials.get(request);
    }
    if (!credential) {
      return;
    }
    form.elements.namedItem("challengeId").value = started.challengeId;
    form.elements.namedItem("credential").value = JSON.stringify(credential.toJSON());
    form.noValidate = true;
    form.submit();
  }

  function report(form, error) {
    if (error && error.name === "AbortError") {
      return;
    }
    let status = form.querySelector(".passkey-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "passkey-status field-error";
      status.setAttribute("role", "alert");
      form.appendChild(status);
    }
    status.textContent = (error && error.message) || "The passkey did not work.";
  }

  let conditional = null;
  for (const button of buttons) {
    const form = button.closest("form");
    const purpose = button.dataset.passkey;
    if (!form) {
      continue;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (conditional) {
        conditional.abort();
        conditional = null;
      }
      ceremony(purpose, form).catch(function (error) {
        report(form, error);
      });
    });
  }

  // Sign-in: offer the account's passkeys in the identifier field's autofill (conditional UI).
  const login = buttons.find(function (button) {
    return button.dataset.passkey === "login";
  });
  if (login && typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
    PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
      if (!available) {
        return;
      }
      conditional = new AbortController();
      ceremony("login", login.closest("form"), "conditional", conditional.signal).catch(function (error) {
        report(login.closest("form"), error);
      });
    });
  }
})();
