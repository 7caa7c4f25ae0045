// "Ask about this meeting" on the meeting page. Accessible names the browser tests rely on: h2 "Ask about
// this meeting", textbox "Question", button "Ask"; the answer as text; under "Sources" each source a link
// "Play from m:ss · <speaker>: “<quote>”" to `/meetings/:id/recordings/:rid?t=<seconds>`.
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { answerWith, json, problem, renderPage } from "../lib/testing";
import { AskSection } from "./AskSection";

const fetchMock = await vi.hoisted(async () => (await import("../lib/fakeFetch")).installFakeFetch());
vi.setConfig({ testTimeout: 20_000 });

const show = () =>
  renderPage(<AskSection meetingId="m1" />, { path: "/meetings/m1", pattern: "/meetings/:meetingId" });

const asked = (answer: unknown, status = 200) =>
  answerWith(fetchMock, [
    ({ method, path }) =>
      method === "POST" && path === "/api/meetings/m1/ask"
        ? status === 200
          ? json(answer)
          : (answer as Response)
        : undefined,
  ]);

async function ask(question: string) {
  const user = userEvent.setup();
  await user.type(screen.getByRole("textbox", { name: "Question" }), question);
  await user.click(screen.getByRole("button", { name: "Ask" }));
}

beforeEach(() => {
  fetchMock.mockReset();
});

describe("asking about a meeting", () => {
  it("sends the question and shows the answer with its sources, each playing its moment", async () => {
    const seen = asked({
      answer: "The budget was approved.\nBob sends the numbers.",
      sources: [
        { recordingId: "r1", start: 4.21, end: 8, speaker: "Bob Builder", quote: "approve the budget today" },
        { recordingId: "r2", start: 61, end: 63, speaker: null, quote: "numbers before Friday" },
      ],
    });
    show();
    expect(screen.getByRole("heading", { level: 2, name: "Ask about this meeting" })).toBeInTheDocument();
    await ask("  What was decided?  ");

    expect(await screen.findByText(/The budget was approved\./)).toBeInTheDocument();
    expect(seen.find((s) => s.method === "POST")?.body).toEqual({ question: "What was decided?" });
    const sources = screen.getByRole("list", { name: "Sources" });
    const links = within(sources).getAllByRole("link");
    expect(links).toHaveLength(2);
    expect(links[0]).toHaveAccessibleName("Play from 0:04 · Bob Builder: “approve the budget today”");
    expect(links[0]).toHaveAttribute("href", "/meetings/m1/recordings/r1?t=4.21");
    expect(links[1]).toHaveAccessibleName("Play from 1:01: “numbers before Friday”");
    expect(links[1]).toHaveAttribute("href", "/meetings/m1/recordings/r2?t=61");
  });

  it("renders the answer and quotes as text, never as HTML", async () => {
    asked({
      answer: "<img src=x onerror=alert(1)>",
      sources: [{ recordingId: "r1", start: 1, end: 2, speaker: "<b>x</b>", quote: "<script>1</script>" }],
    });
    const { container } = show();
    await ask("anything");

    expect(await screen.findByText("<img src=x onerror=alert(1)>")).toBeInTheDocument();
    expect(container.querySelector("img, b, script")).toBeNull();
    expect(screen.getByRole("link", { name: /Play from 0:01/ })).toHaveTextContent(
      "<b>x</b>: “<script>1</script>”",
    );
  });

  it("says when no passage supports an answer", async () => {
    asked({ answer: "The recordings of this meeting don't say.", sources: [] });
    show();
    await ask("Who won the match?");
    expect(await screen.findByText("The recordings of this meeting don't say.")).toBeInTheDocument();
    expect(screen.getByText("No passage of the recordings supports an answer.")).toBeInTheDocument();
    expect(screen.queryByRole("list", { name: "Sources" })).toBeNull();
  });

  it("asks nothing without a question, and says so under the field", async () => {
    const user = userEvent.setup();
    answerWith(fetchMock, []);
    show();
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByText("Type a question.")).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("shows the API's field error under the field, other errors where the answer would be", async () => {
    asked(problem(400, "invalid request", [{ field: "body.question", message: "Too long." }]), 400);
    show();
    await ask("why?");
    expect(await screen.findByText("Too long.")).toBeInTheDocument();
    // The field's own message is the only alert: no MessageBar repeats it.
    expect(screen.getAllByRole("alert").map((a) => a.textContent)).toEqual(["Too long."]);

    fetchMock.mockReset();
    asked(problem(409, "no recording of this meeting is transcribed yet"), 409);
    await userEvent.setup().click(screen.getByRole("button", { name: "Ask" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "No recording of this meeting is transcribed yet",
    );
    expect(screen.queryByText("Too long.")).toBeNull();
  });
});
