/**
 * /passkeys.js: the pages' own script, over the library's browser bundle (/webauthn.js, which
 * defines `SimpleWebAuthnBrowser`). On the login page it shows "Log in with a passkey" and offers
 * passkeys in the email field's autofill (conditional UI); on the account page it shows the form
 * that adds one. It does nothing in a browser without WebAuthn, where the pages stay as they are.
 * Every request it makes is a same-origin JSON call to the API.
 */
export const PASSKEYS_SCRIPT = `'use strict';
(function () {
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(
        function (data) { return { ok: response.ok, data: data }; },
        function () { return { ok: response.ok, data: {} }; }
      );
    });
  }

  function refusal(answer, fallback) {
    var error = new Error((answer.data && answer.data.message) || fallback);
    error.code = answer.data && answer.data.code;
    return error;
  }

  function say(element, message) {
    element.textContent = message;
    element.hidden = false;
  }

  /** What to tell of a failed ceremony; null for one cancelled on purpose (say, by another). */
  function messageOf(cause) {
    if (cause && (cause.name === 'AbortError' || cause.code === 'ERROR_CEREMONY_ABORTED')) return null;
    if (cause && cause.name === 'NotAllowedError') return 'The passkey was not used: the request was cancelled or timed out.';
    if (cause && cause.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
    return (cause && cause.message) || 'Something went wrong with the passkey.';
  }

  var login = document.querySelector('[data-passkey-login]');
  if (login) {
    var loginError = login.querySelector('[data-passkey-error]');
    var logIn = function (useBrowserAutofill) {
      return post('/sessions/passkey/options').then(function (options) {
        if (!options.ok) throw refusal(options, 'Passkey login is not available now.');
        return lib.startAuthentication({ optionsJSON: options.data, useBrowserAutofill: useBrowserAutofill });
      }).then(function (response) {
        return post('/sessions/passkey', { response: response });
      }).then(function (answer) {
        if (answer.ok) return window.location.assign(login.dataset.next || '/account');
        if (answer.data.code === 'second_factor_required') return window.location.assign(login.dataset.codePage || '/login/code');
        throw refusal(answer, 'This passkey was not accepted.');
      });
    };
    var report = function (cause) {
      var message = messageOf(cause);
      if (message !== null) say(loginError, message);
    };
    login.hidden = false;
    login.querySelector('button').addEventListener('click', function () {
      loginError.hidden = true;
      logIn(false).catch(report);
    });
    lib.browserSupportsWebAuthnAutofill().then(function (available) {
      // Only a refusal by the service is told: the autofill's own ends (another ceremony, a page
      // left) are not the user's business.
      if (available) logIn(true).catch(function (cause) { if (cause && cause.code) report(cause); });
    });
  }

  var add = document.querySelector('[data-passkey-add]');
  if (add) {
    var addError = add.querySelector('[data-passkey-error]');
    document.querySelectorAll('[data-passkey-nojs]').forEach(function (element) { element.hidden = true; });
    add.hidden = false;
    add.addEventListener('submit', function (event) {
      event.preventDefault();
      addError.hidden = true;
      var name = add.elements.namedItem('name').value.trim();
      var passwordField = add.elements.namedItem('password');
      var password = passwordField ? passwordField.value : '';
      if (name === '') {
        say(addError, 'Give the passkey a name.');
        return;
      }
      post('/profile/passkeys/options', password === '' ? {} : { password: password }).then(function (options) {
        if (!options.ok) throw refusal(options, 'A passkey cannot be added now.');
        return lib.startRegistration({ optionsJSON: options.data });
      }).then(function (response) {
        return post('/profile/passkeys', { name: name, response: response });
      }).then(function (answer) {
        if (!answer.ok) throw refusal(answer, 'This passkey was not accepted.');
        window.location.assign('/account?notice=passkey_added');
      }).catch(function (cause) {
        say(addError, messageOf(cause) || 'The passkey was not added.');
      });
    });
  }
})();
`;
