import "@testing-library/jest-dom/vitest";
import { configure } from "@testing-library/react";

// Fluent's components render slowly in jsdom on a loaded two-core machine (CI runs everything at once):
// `findBy…` waits up to 5 s instead of 1 s, so a slow render is not mistaken for a missing element.
configure({ asyncUtilTimeout: 5000 });
