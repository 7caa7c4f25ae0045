// The header's search box: a search landmark with textbox "Search meetings"; Enter opens /search?q=.
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { describe, expect, it } from "vitest";

import "../lib/testing";
import { SearchBox } from "./Layout";

function Where() {
  const location = useLocation();
  return <p data-testid="where">{location.pathname + location.search}</p>;
}

function show(path = "/") {
  return render(
    <MemoryRouter initialEntries={[path]}>
      <SearchBox />
      <Routes>
        <Route path="*" element={<Where />} />
      </Routes>
    </MemoryRouter>,
  );
}

describe("the header's search box", () => {
  it("opens the search page for what was typed when Enter is pressed", async () => {
    const user = userEvent.setup();
    show("/meetings/m1");
    expect(screen.getByRole("search", { name: "Search meetings" })).toBeInTheDocument();
    await user.type(screen.getByRole("textbox", { name: "Search meetings" }), "  budget & hiring {Enter}");
    expect(screen.getByTestId("where")).toHaveTextContent("/search?q=budget%20%26%20hiring");
  });

  it("goes nowhere for blanks", async () => {
    const user = userEvent.setup();
    show("/meetings/m1");
    await user.type(screen.getByRole("textbox", { name: "Search meetings" }), "   {Enter}");
    expect(screen.getByTestId("where")).toHaveTextContent("/meetings/m1");
  });

  it("shows the query on the search page, and a new one when the address changes", async () => {
    const user = userEvent.setup();
    show("/search?q=budget");
    const box = screen.getByRole("textbox", { name: "Search meetings" });
    expect(box).toHaveValue("budget");
    await user.clear(box);
    await user.type(box, "hiring{Enter}");
    expect(screen.getByTestId("where")).toHaveTextContent("/search?q=hiring");
    expect(box).toHaveValue("hiring");
  });
});
