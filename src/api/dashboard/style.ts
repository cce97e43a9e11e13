/** Served as /dashboard.css: the Content-Security-Policy allows styles from this site only. */
export const DASHBOARD_CSS = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6575; --line: #d9dee7; --bg: #f5f7fa; --card: #fff;
  --red: #b42318; --red-bg: #fef3f2; --amber: #93370d; --amber-bg: #fffaeb; --green: #05603a; --green-bg: #ecfdf3;
  --blue: #1849a9; --blue-bg: #eff8ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header.top { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .8rem 1.5rem; background: #102a43; color: #fff; }
header.top h1 { font-size: 1.2rem; margin: 0; font-weight: 600; }
header.top a.home { color: #fff; text-decoration: none; }
header.top .who { display: flex; align-items: center; gap: .75rem; font-size: .9rem; }
header.top .who form { margin: 0; }
header.top button { background: transparent; color: #fff; border: 1px solid #9fb3c8; }
main { max-width: 1280px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
section.card > h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
.banner { border-radius: 8px; padding: .85rem 1.1rem; margin: 1rem 0; border: 1px solid; }
.banner strong.title { display: block; font-size: 1.05rem; margin-bottom: .2rem; }
.banner p { margin: .25rem 0; }
.banner.failed, .banner.error { color: var(--red); background: var(--red-bg); border-color: #fda29b; }
.banner.stale, .banner.held, .banner.never, .banner.retrying, .banner.unwatched { color: var(--amber); background: var(--amber-bg); border-color: #fec84b; }
.banner.ok { color: var(--green); background: var(--green-bg); border-color: #6ce9a6; }
.banner.running, .banner.info { color: var(--blue); background: var(--blue-bg); border-color: #84caff; }
.checksums { padding-left: 1.2rem; }
.checksums li.mismatch { color: var(--red); }
.checksums li.holds { color: var(--green); }
.banner .actions { display: flex; gap: .5rem; margin-top: .6rem; }
.flash { border-radius: 8px; padding: .6rem 1rem; margin: 1rem 0 0; background: #e8f1fb; border: 1px solid #b2ccff; color: var(--blue); }
.flash.error { background: var(--red-bg); border-color: #fda29b; color: var(--red); }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: .5rem 1.5rem; margin: 0; }
dl.facts div { min-width: 0; }
dl.facts dt { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
dl.facts dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; font-size: .9rem; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; white-space: nowrap; }
tbody tr:hover { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .78rem; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.badge.succeeded, .badge.added, .badge.in-force { color: var(--green); background: var(--green-bg); border-color: #a6f4c5; }
.badge.failed, .badge.removed, .badge.full { color: var(--red); background: var(--red-bg); border-color: #fecdca; }
.badge.awaiting_approval, .badge.modified, .badge.buy_only, .badge.sell_only, .badge.not-in-force { color: var(--amber); background: var(--amber-bg); border-color: #fedf89; }
.badge.running { color: var(--blue); background: var(--blue-bg); border-color: #b2ddff; }
button, .button { font: inherit; font-size: .9rem; padding: .4rem .9rem; border-radius: 6px; border: 1px solid #98a2b3; background: #fff; color: var(--ink); cursor: pointer; }
button.primary { background: #1849a9; border-color: #1849a9; color: #fff; }
button.approve { background: #05603a; border-color: #05603a; color: #fff; }
button.reject { background: #b42318; border-color: #b42318; color: #fff; }
form.inline { display: inline; margin: 0; }
form.search { display: flex; gap: .5rem; margin-bottom: .75rem; flex-wrap: wrap; align-items: center; }
input[type=search], input[type=password] { font: inherit; padding: .4rem .6rem; border: 1px solid #98a2b3; border-radius: 6px; min-width: 18rem; }
.section-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
.section-head h2 { margin: 0 0 .75rem; font-size: 1.05rem; }
.changes ul { margin: 0; padding-left: 1rem; }
del { color: var(--red); }
ins { color: var(--green); text-decoration: none; }
.sign-in { max-width: 28rem; margin: 4rem auto; }
.sign-in label { display: block; font-weight: 600; margin-bottom: .35rem; }
.sign-in input { width: 100%; min-width: 0; margin-bottom: .8rem; }
td.outcome { min-width: 13rem; overflow-wrap: anywhere; }
.nowrap { white-space: nowrap; }
.table-wrap { overflow-x: auto; }
footer { color: var(--muted); font-size: .8rem; text-align: center; margin-top: 2rem; }
`;
