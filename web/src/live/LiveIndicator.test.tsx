import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { LiveIndicator } from "./LiveIndicator";
import { fakeLive } from "./testing";

afterEach(cleanup);

describe("LiveIndicator", () => {
  it("says whether events arrive, and what the pages do when they do not", async () => {
    const live = fakeLive();
    render(
      <live.Wrapper>
        <LiveIndicator />
      </live.Wrapper>,
    );
    expect(await screen.findByRole("status")).toHaveTextContent(/^Live$/);
    act(() => {
      live.status("reconnecting");
    });
    expect(screen.getByRole("status")).toHaveTextContent(/^Reconnecting…$/);
    act(() => {
      live.status("offline");
    });
    expect(screen.getByRole("status")).toHaveTextContent("Offline — updates every few seconds");
  });
});
