/**
 * The one stylesheet of the web pages, served at /style.css. System fonts only: no external
 * asset of any kind. Colours meet WCAG AA contrast; focus is always visible.
 */
export const STYLESHEET = `
[hidden] { display: none !important; }
.passkey-login { margin-top: 1.25rem; padding-top: 1.25rem; border-top: 1px solid #e3e7e5; }
:root {
  --ink: #1f2933;
  --muted: #52606d;
  --paper: #f5f7f6;
  --card: #ffffff;
  --line: #d3dbd8;
  --accent: #0b6b57;
  --accent-dark: #074d3f;
  --danger: #b42318;
  --danger-paper: #fef3f2;
  --notice-paper: #ecfdf3;
  --focus: #f5b700;
  color-scheme: light;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  background: var(--paper);
  color: var(--ink);
  font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent-dark); text-underline-offset: 0.15em; }
a:hover { color: var(--ink); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
.skip { position: absolute; left: -999px; top: 0.5rem; background: var(--card); padding: 0.5rem 1rem; }
.skip:focus { left: 0.5rem; }
.site {
  display: flex;
  align-items: center;
  justify-content: space-between;
  max-width: 40rem;
  width: 100%;
  margin: 0 auto;
  padding: 1.25rem 1.25rem 0;
}
.brand {
  font-weight: 700;
  font-size: 1.25rem;
  letter-spacing: 0.01em;
  color: var(--ink);
  text-decoration: none;
}
.brand::before { content: "\\2022"; color: var(--accent); margin-right: 0.4rem; }
main { flex: 1; width: 100%; max-width: 40rem; margin: 0 auto; padding: 1.25rem; }
.card {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 14px;
  padding: 1.75rem 1.5rem;
  box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04), 0 8px 24px rgba(16, 24, 40, 0.05);
}
.card + .card { margin-top: 1.25rem; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 0.5rem; }
h2 { font-size: 1.25rem; line-height: 1.3; margin: 0 0 0.75rem; }
p { margin: 0 0 1rem; }
.lead { color: var(--muted); margin-bottom: 1.5rem; }
.field { margin-bottom: 1.25rem; }
label { display: block; font-weight: 600; margin-bottom: 0.3rem; }
.hint { color: var(--muted); font-size: 0.9375rem; margin: -0.1rem 0 0.4rem; }
input[type="email"], input[type="password"], input[type="text"] {
  display: block;
  width: 100%;
  font: inherit;
  color: inherit;
  padding: 0.65rem 0.75rem;
  border: 1.5px solid #7b8794;
  border-radius: 8px;
  background: #fff;
}
input:focus-visible { border-color: var(--ink); }
.invalid input { border-color: var(--danger); border-width: 2px; }
.error { color: var(--danger); font-weight: 600; margin: 0 0 0.4rem; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: center; margin-top: 1.5rem; }
button, .button {
  display: inline-block;
  font: inherit;
  font-weight: 600;
  line-height: 1.2;
  padding: 0.75rem 1.25rem;
  border-radius: 8px;
  border: 2px solid var(--accent);
  background: var(--accent);
  color: #fff;
  cursor: pointer;
  text-decoration: none;
  text-align: center;
}
button:hover, .button:hover { background: var(--accent-dark); border-color: var(--accent-dark); color: #fff; }
.button.secondary { background: transparent; color: var(--accent-dark); }
.button.secondary:hover { background: var(--notice-paper); color: var(--accent-dark); }
button.danger { background: var(--danger); border-color: var(--danger); }
button.danger:hover { background: #8f1c13; border-color: #8f1c13; }
button.quiet { background: transparent; color: var(--accent-dark); }
button.quiet:hover { background: var(--notice-paper); color: var(--accent-dark); }
.alert, .notice { border-radius: 10px; padding: 0.9rem 1rem; margin-bottom: 1.25rem; }
.alert { background: var(--danger-paper); border: 1.5px solid var(--danger); }
.alert h2 { font-size: 1.0625rem; margin: 0 0 0.35rem; color: var(--danger); }
.alert ul { margin: 0; padding-left: 1.2rem; }
.alert a { color: var(--danger); font-weight: 600; }
.alert p:last-child { margin-bottom: 0; }
.notice { background: var(--notice-paper); border: 1.5px solid var(--accent); }
.notice p { margin: 0; }
.account-email { font-weight: 700; overflow-wrap: anywhere; }
.danger-zone { border-color: #f1b8b2; }
.danger-zone h2 { color: var(--danger); }
.devices { list-style: none; margin: 0 0 1.25rem; padding: 0; }
.device {
  display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between;
  padding: 0.75rem 0; border-bottom: 1px solid #e4e7ec;
}
.device strong { display: block; }
.device-details { color: var(--muted); font-size: 0.9375rem; overflow-wrap: anywhere; }
.this-device { font-weight: 600; color: var(--accent-dark); }
.more { margin-top: 1.25rem; color: var(--muted); }
.qr svg { display: block; width: 14rem; max-width: 100%; height: auto; margin: 0 0 1rem; }
.secret, .recovery-codes code {
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 1.0625rem; letter-spacing: 0.05em; overflow-wrap: anywhere;
}
.recovery-codes { columns: 2; margin: 0 0 1.25rem; padding-left: 1.75rem; }
.recovery-codes li { margin-bottom: 0.35rem; }
.state { font-weight: 700; }
footer { text-align: center; color: var(--muted); font-size: 0.875rem; padding: 1rem 1.25rem 1.5rem; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
@media (min-width: 40rem) {
  .card { padding: 2.25rem 2.5rem; }
  h1 { font-size: 2rem; }
  main { padding-top: 2.5rem; }
}
`;
