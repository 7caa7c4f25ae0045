import { Button, Field, Input, Link, Title2 } from "@fluentui/react-components";
import { useState, type FormEvent } from "react";

import { useAuth } from "./AuthContext";
import { DEV_USER_ID } from "./devAuth";
import { signInUrl } from "./easyAuth";

export function SignIn() {
  const { config, signIn } = useAuth();
  const [userId, setUserId] = useState("");
  const [touched, setTouched] = useState(false);

  if (config.authMode === "easyauth") {
    // App Service signs the user in on its own pages and comes back here.
    return (
      <section>
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
