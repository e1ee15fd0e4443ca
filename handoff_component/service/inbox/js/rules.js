// The rules page: each active trigger rule of the rules file, how often it fired and how its
// tickets ended (GET /api/rules joined with GET /api/stats/rules).

import { $, fill, h } from "./dom.js";
import { RESOLUTION_LABELS, channelOf, duration } from "./format.js";

function outcomes(stats) {
  if (!stats) return h("span", { class: "muted" }, "never fired");
  const parts = Object.entries(stats.outcomes).map(([resolution, n]) =>
    h("span", { class: `chip chip-outcome outcome-${resolution}` }, `${n} ${RESOLUTION_LABELS[resolution] || resolution}`),
  );
  if (stats.reopens) parts.push(h("span", { class: "chip chip-medium" }, `${stats.reopens} reopened`));
  return parts.length ? parts : h("span", { class: "muted" }, "none closed yet");
}

function ruleRow(rule, stats) {
  return h(
    "tr",
    { class: rule.enabled ? null : "disabled", dataset: { rule: rule.name } },
    h("th", { scope: "row" },
      h("span", { class: "rule-name" }, rule.name),
      rule.enabled ? null : h("span", { class: "chip" }, "disabled"),
      rule.description ? h("span", { class: "muted rule-description" }, rule.description) : null),
    h("td", {}, rule.condition ? h("code", { class: "condition" }, rule.condition) : h("span", { class: "muted" }, "not in the rules file")),
    h("td", {}, rule.team || "default"),
    h("td", {}, rule.priority ? h("span", { class: `priority priority-${rule.priority}` }, rule.priority) : ""),
    h("td", {}, rule.channels ? rule.channels.map((c) => channelOf(c).label).join(", ") : rule.condition ? "all" : ""),
    h("td", { class: "num", dataset: { fired: stats ? stats.tickets : 0 } }, String(stats ? stats.tickets : 0)),
    h("td", { class: "num" }, String(stats ? stats.active : 0)),
    h("td", {}, h("div", { class: "outcomes" }, outcomes(stats))),
  );
}

export async function renderRules(app) {
  const [rules, stats] = await Promise.all([app.loadRules(), app.api("/api/stats/rules")]);
  const byName = new Map(stats.rules.map((entry) => [entry.rule, entry]));
  const since = new Date(stats.since).toLocaleDateString();
  $("#rules-source").textContent = rules
    ? `From ${rules.source}; figures since ${since}. Edit the file and retrain the bot to change them.`
    : `The rules file cannot be read by the service; figures since ${since}.`;
  const known = rules ? rules.rules : [];
  const others = stats.rules
    .filter((entry) => !known.some((rule) => rule.name === entry.rule))
    .map((entry) => ({ name: entry.rule, enabled: true, description: "Not a rule of the file: a story, a takeover or a removed rule." }));
  fill($("#rules-body"), ...[...known, ...others].map((rule) => ruleRow(rule, byName.get(rule.name))));
  const nets = rules ? Object.entries(rules.safety_nets) : [];
  fill($("#safety-body"), 
    ...nets.map(([channel, net]) =>
      h("tr", {},
        h("th", { scope: "row" }, channel === "default" ? "every other channel" : channelOf(channel).label),
        h("td", {}, net.auto_pause ? "yes" : "no, the team is alerted"),
        h("td", { class: "num" }, duration(net.unclaimed_timeout_seconds)),
        h("td", { class: "num" }, duration(net.cooldown_seconds)))),
  );
}
