import {
  Button,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Title2,
} from "@fluentui/react-components";
import { useEffect, useState, type FormEvent } from "react";

import { useAuth } from "./AuthContext";
import { DEV_USER_ID } from "./devAuth";
import { signInUrl } from "./easyAuth";
import { dropSignOutNotice, peekSignOutNotice, type SignOutNotice } from "./signOutNotice";

/** Why the user was signed out, when the app did it (their data erased), above the way back in. */
function Notice({ notice }: { notice: SignOutNotice | null }) {
  if (notice === null) return null;
  return (
    <MessageBar intent="success" role="status" layout="multiline" style={{ marginBottom: "1rem" }}>
      <MessageBarBody>
        <MessageBarTitle>{notice.title}</MessageBarTitle>
        <ul style={{ margin: "0.25rem 0", paddingLeft: "1.25rem" }}>
          {notice.lines.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </MessageBarBody>
    </MessageBar>
  );
}

export function SignIn() {
  const { config, signIn } = useAuth();
  const [userId, setUserId] = useState("");
  const [touched, setTouched] = useState(false);
  // Read once: shown for as long as this page is, gone at the next sign-out.
  const [notice] = useState(peekSignOutNotice);
  useEffect(dropSignOutNotice, []);

  if (config.authMode === "easyauth") {
    // App Service signs the user in on its own pages and comes back here.
    return (
      <section>
        <Notice notice={notice} />
        <Title2 as="h1" block>
          Sign in
        </Title2>
        <p>Sign in with your work or school account to see your meetings.</p>
        <Link href={signInUrl(window.location.pathname + window.location.search)}>Sign in</Link>
      </section>
    );
  }
  if (config.authMode === "entra") {
    return (
      <section>
        <Notice notice={notice} />
        <Title2 as="h1" block>
          Sign in
        </Title2>
        <p>Sign in with your work or school account to see your meetings.</p>
        <Button appearance="primary" onClick={() => void signIn()}>
          Sign in
        </Button>
      </section>
    );
  }

  const valid = DEV_USER_ID.test(userId);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (valid) void signIn(userId);
  };
  return (
    <section>
      <Notice notice={notice} />
      <Title2 as="h1" block>
        Sign in
      </Title2>
      <p>Local mode: type any user id (for example alice or bob). Requests carry it as the caller.</p>
      <form onSubmit={submit} style={{ display: "flex", gap: "0.5rem", alignItems: "end" }}>
        <Field
          label="Sign in as"
          validationState={touched && !valid ? "error" : "none"}
          validationMessage={touched && !valid ? "1 to 128 letters, digits or . @ _ + -" : undefined}
        >
          <Input
            value={userId}
            onChange={(_, data) => {
              setUserId(data.value);
            }}
            autoFocus
          />
        </Field>
        <Button appearance="primary" type="submit">
          Sign in
        </Button>
      </form>
    </section>
  );
}
