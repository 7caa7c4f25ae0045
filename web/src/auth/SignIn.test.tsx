import { render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";

import { localConfig } from "../lib/testing";
import { AuthContext, type AuthState } from "./AuthContext";
import { SignIn } from "./SignIn";
import { leaveSignOutNotice, peekSignOutNotice } from "./signOutNotice";

const auth: AuthState = {
  config: localConfig,
  user: null,
  signIn: () => Promise.resolve(),
  signOut: () => Promise.resolve(),
};

const show = () =>
  render(
    <AuthContext.Provider value={auth}>
      <SignIn />
    </AuthContext.Provider>,
  );

beforeEach(() => {
  sessionStorage.clear();
});

describe("the sign-in page after the app signed the user out", () => {
  it("says why, once", () => {
    leaveSignOutNotice({
      title: "Your data is erased and you are signed out",
      lines: ["Removed you from 2 meetings."],
    });
    const first = show();
    const notice = screen.getByRole("status");
    expect(notice).toHaveTextContent("Your data is erased and you are signed out");
    expect(notice).toHaveTextContent("Removed you from 2 meetings.");
    expect(peekSignOutNotice()).toBeNull();

    first.unmount();
    show();
    expect(screen.queryByRole("status")).toBeNull();
    expect(screen.getByRole("textbox", { name: "Sign in as" })).toBeInTheDocument();
  });

  it("ignores a notice it cannot read", () => {
    sessionStorage.setItem("video-signaling.signOutNotice", "{not json");
    show();
    expect(screen.queryByRole("status")).toBeNull();
  });
});
