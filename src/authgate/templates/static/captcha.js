// ALTCHA's proof of work for the pages' forms: fetch a challenge from our own server, find the
// number whose SHA-256 (WebCrypto) with the salt is the challenge, and put the signed answer in
// the form's `altcha` field. The server checks it as for any API request.
"use strict";

(function () {
  async function hex(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  async function solve(box) {
    const form = box.closest("form");
    const status = box.querySelector("[data-captcha-status]");
    const response = await fetch(box.dataset.altchaChallenge, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error("challenge");
    }
    const challenge = await response.json();
    for (let number = 0; number <= challenge.maxnumber; number += 1) {
      if ((await hex(challenge.salt + number)) === challenge.challenge) {
        const payload = {
          algorithm: challenge.algorithm,
          challenge: challenge.challenge,
          number: number,
          salt: challenge.salt,
          signature: challenge.signature,
        };
        form.elements.namedItem("altcha").value = btoa(JSON.stringify(payload));
        status.textContent = box.dataset.done;
        return;
      }
    }
    throw new Error("unsolved");
  }

  document.querySelectorAll("[data-altcha-challenge]").forEach(function (box) {
    solve(box).catch(function () {
      box.querySelector("[data-captcha-status]").textContent = box.dataset.failed;
    });
  });
})();
