import "@testing-library/jest-dom/vitest";
import { configure } from "@testing-library/react";

// Fluent's components render slowly in jsdom on a loaded two-core machine (CI runs everything at once):
// `findBy…` waits up to 5 s instead of 1 s, so a slow render is not mistaken for a missing element.
configure({ asyncUtilTimeout: 5000 });

// Griffel (Fluent's CSS-in-JS) inserts thousands of rules into jsdom's style sheets, and every `*ByRole`
// query asks jsdom for the computed style of each element it considers, which re-matches all of them:
// a query on a page with an open dialog took seconds on CI, and `findBy…` timed out. Only the rules that
// hide something change what a query sees (a tab's label has a hidden twin that reserves its bold
// width), so only those are kept.
const { insertRule } = CSSStyleSheet.prototype as {
  insertRule: (this: CSSStyleSheet, rule: string, index?: number) => number;
};
const HIDES = /display:\s*none|visibility:\s*hidden/;
CSSStyleSheet.prototype.insertRule = function (this: CSSStyleSheet, rule: string, index?: number) {
  return HIDES.test(rule) ? insertRule.call(this, rule, index) : 0;
};
